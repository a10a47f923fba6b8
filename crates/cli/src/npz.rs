//! A minimal `.npz` writer (a zip of `.npy` arrays), enough for float, integer and string
//! arrays, so Python reads our features with plain `numpy.load`.

use std::io::{Seek, Write};

use anyhow::Context;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// One array to store: its numpy dtype, shape and little-endian bytes.
pub struct Array {
    descr: String,
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl Array {
    /// float32 array of `shape`.
    pub fn f32(data: &[f32], shape: &[usize]) -> Self {
        Self {
            descr: "<f4".into(),
            shape: shape.to_vec(),
            bytes: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// 1-D int64 array.
    pub fn i64(data: &[i64]) -> Self {
        Self {
            descr: "<i8".into(),
            shape: vec![data.len()],
            bytes: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// 1-D int8 array.
    pub fn i8(data: &[i8]) -> Self {
        Self {
            descr: "|i1".into(),
            shape: vec![data.len()],
            bytes: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }

    /// 1-D unicode string array (numpy `<U{n}`: UTF-32, zero-padded to the longest).
    pub fn strings<S: AsRef<str>>(data: &[S]) -> Self {
        let width = data
            .iter()
            .map(|s| s.as_ref().chars().count())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut bytes = Vec::with_capacity(data.len() * width * 4);
        for s in data {
            let s = s.as_ref();
            bytes.extend(s.chars().flat_map(|c| u32::from(c).to_le_bytes()));
            bytes.resize(bytes.len() + (width - s.chars().count()) * 4, 0);
        }
        Self {
            descr: format!("<U{width}"),
            shape: vec![data.len()],
            bytes,
        }
    }

    /// The array as a version 1.0 `.npy` file.
    fn write_npy(&self, out: &mut impl Write) -> std::io::Result<()> {
        let shape = match self.shape.as_slice() {
            [n] => format!("({n},)"),
            dims => format!(
                "({})",
                dims.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let mut header = format!(
            "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
            self.descr
        );
        // Magic (6) + version (2) + length (2) + header + '\n' must be a multiple of 64.
        let pad = (64 - (10 + header.len() + 1) % 64) % 64;
        header.push_str(&" ".repeat(pad));
        header.push('\n');
        out.write_all(b"\x93NUMPY\x01\x00")?;
        out.write_all(&(header.len() as u16).to_le_bytes())?;
        out.write_all(header.as_bytes())?;
        out.write_all(&self.bytes)
    }
}

/// Writes named arrays as an uncompressed `.npz` (fast to write, memory-mappable to read).
pub fn write(out: impl Write + Seek, arrays: &[(&str, Array)]) -> anyhow::Result<()> {
    let mut zip = ZipWriter::new(out);
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .large_file(true);
    for (name, array) in arrays {
        zip.start_file(format!("{name}.npy"), options)
            .context("writing .npz")?;
        array.write_npy(&mut zip).context("writing .npz")?;
    }
    zip.finish().context("writing .npz")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_header_is_aligned_and_parsable() {
        let mut buf = Vec::new();
        Array::f32(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])
            .write_npy(&mut buf)
            .expect("write");
        let header_len = u16::from_le_bytes([buf[8], buf[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&buf[10..10 + header_len]).expect("ascii");
        assert!(
            header.contains("'shape': (2, 3)") && header.ends_with('\n'),
            "{header}"
        );
        assert_eq!(buf.len(), 10 + header_len + 24);
    }

    #[test]
    fn strings_are_utf32_padded() {
        let a = Array::strings(&["ab", "c"]);
        assert_eq!(a.descr, "<U2");
        assert_eq!(
            a.bytes,
            vec![97, 0, 0, 0, 98, 0, 0, 0, 99, 0, 0, 0, 0, 0, 0, 0]
        );
    }
}
