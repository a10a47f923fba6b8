"""Makes `heartbeat_training` importable when pytest runs from the repository root."""

import sys
from pathlib import Path

TRAINING = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TRAINING))
