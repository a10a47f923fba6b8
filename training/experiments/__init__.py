"""Studies and the record of every run; they import `heartbeat_training`, never the reverse."""
