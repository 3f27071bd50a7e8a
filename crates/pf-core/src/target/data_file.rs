//! A data set read from a `.npy`, `.csv` or `.tsv` file, as a sampling-only target.

use super::Target;
use crate::{Error, Result};
use ndarray::Array2;
use ndarray_npy::{ReadNpyError, ReadNpyExt};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tch::{Device, Kind, Tensor};

/// An N × D data set read from a file, as a sampling-only target: `sample(n)` draws n rows
/// uniformly with replacement (indices from libtorch's generator, so `tch::manual_seed` fixes them).
///
/// Formats, by extension:
/// - `.npy`: a 2-D float32 or float64 array (C or Fortran order, either byte order); float64 is
///   rounded to float32.
/// - `.csv` (comma) or `.tsv` (tab): one row per line, every row with the same number of numeric
///   columns; an optional header row (a first row with no numeric field); blank lines and lines
///   starting with `#` are skipped; surrounding spaces are trimmed.
///
/// Every value must be finite (also after rounding to float32). Errors name the file and, for text
/// files, the line and column.
#[derive(Debug)]
pub struct DataFile {
    path: PathBuf,
    name: String,
    rows: usize,
    cols: usize,
    /// The data, [N, D] float32, one copy per device it was sampled on (CPU first).
    copies: Mutex<Vec<(Device, Tensor)>>,
}

impl DataFile {
    /// Reads `path` (`.npy`, `.csv` or `.tsv`); see [`DataFile`].
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let err = |msg: String| Error::File {
            path: path.display().to_string(),
            msg,
        };
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => err("no such file".into()),
            _ => err(format!("cannot read: {e}")),
        })?;
        let (values, rows, cols) = match ext.as_deref() {
            Some("npy") => read_npy(&bytes).map_err(err)?,
            Some("csv") => read_text(&bytes, b',').map_err(err)?,
            Some("tsv") => read_text(&bytes, b'\t').map_err(err)?,
            _ => {
                return Err(err(
                    "unsupported file type: expected .npy, .csv or .tsv".into()
                ))
            }
        };
        if rows == 0 || cols == 0 {
            return Err(err(format!("empty: {rows} rows × {cols} columns")));
        }
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(err(format!(
                "non-finite value {} (as float32) at row {}, column {} (1-based)",
                values[i],
                i / cols + 1,
                i % cols + 1
            )));
        }
        let data = Tensor::from_slice(&values).view([rows as i64, cols as i64]);
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("data")
            .to_string();
        Ok(Self {
            path: path.to_path_buf(),
            name,
            rows,
            cols,
            copies: Mutex::new(vec![(Device::Cpu, data)]),
        })
    }

    /// The file it was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// Number of rows N.
    pub fn len(&self) -> usize {
        self.rows
    }
    /// Always false: an empty file is an error.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }
    /// The whole data set, [N, D] float32 on `device` (copied there once, then cached).
    pub fn data(&self, device: Device) -> Tensor {
        let mut copies = self.copies.lock().expect("data cache");
        if let Some((_, t)) = copies.iter().find(|(d, _)| *d == device) {
            return t.shallow_clone();
        }
        let t = copies[0].1.to_device(device);
        copies.push((device, t.shallow_clone()));
        t
    }
}

impl Target for DataFile {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn dim(&self) -> usize {
        self.cols
    }
    fn sample(&self, n: usize, device: Device) -> Tensor {
        let data = self.data(device);
        let idx = Tensor::randint(self.rows as i64, [n as i64], (Kind::Int64, device));
        data.index_select(0, &idx)
    }
    fn normalised(&self) -> bool {
        false
    }
}

/// A .npy file's values (row-major), rows and columns; errors are messages without the file name.
fn read_npy(bytes: &[u8]) -> std::result::Result<(Vec<f32>, usize, usize), String> {
    fn flat<A: Copy>(a: &Array2<A>, f: impl Fn(A) -> f32) -> (Vec<f32>, usize, usize) {
        (a.iter().map(|&v| f(v)).collect(), a.nrows(), a.ncols())
    }
    match Array2::<f32>::read_npy(Cursor::new(bytes)) {
        Ok(a) => Ok(flat(&a, |v| v)),
        Err(ReadNpyError::WrongDescriptor(_)) => {
            match Array2::<f64>::read_npy(Cursor::new(bytes)) {
                Ok(a) => Ok(flat(&a, |v| v as f32)),
                Err(ReadNpyError::WrongDescriptor(d)) => Err(format!(
                    "wrong dtype {d}: expected float32 or float64 ('<f4', '<f8')"
                )),
                Err(e) => Err(npy_msg(e)),
            }
        }
        Err(e) => Err(npy_msg(e)),
    }
}

fn npy_msg(e: ReadNpyError) -> String {
    match e {
        ReadNpyError::WrongNdim(_, n) => {
            format!("not 2-D: the array has {n} dimension(s); expected N × D")
        }
        ReadNpyError::MissingData => {
            "truncated .npy: the file holds fewer values than its header says".into()
        }
        ReadNpyError::ExtraBytes(k) => format!("corrupt .npy: {k} extra bytes after the data"),
        ReadNpyError::ParseHeader(h) => format!("not a valid .npy file (header: {h})"),
        ReadNpyError::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "truncated .npy: the file ends inside the header".into()
        }
        other => format!("cannot read .npy: {other}"),
    }
}

/// A CSV/TSV file's values (row-major), rows and columns.
fn read_text(bytes: &[u8], delim: u8) -> std::result::Result<(Vec<f32>, usize, usize), String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut values = Vec::new();
    let (mut rows, mut cols) = (0usize, None::<usize>);
    let mut first = true;
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            format!("line {line}: {e}")
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        if first {
            first = false;
            if rec.iter().all(|f| f.parse::<f64>().is_err()) {
                continue; // header row
            }
        }
        match cols {
            None => cols = Some(rec.len()),
            Some(d) if d != rec.len() => {
                return Err(format!(
                    "ragged: line {line} has {} columns, earlier rows have {d}",
                    rec.len()
                ))
            }
            _ => {}
        }
        for (j, field) in rec.iter().enumerate() {
            let v: f64 = field
                .parse()
                .map_err(|_| format!("line {line}, column {}: {field:?} is not a number", j + 1))?;
            let v32 = v as f32;
            if !v32.is_finite() {
                return Err(format!(
                    "line {line}, column {}: non-finite value {field:?} (as float32)",
                    j + 1
                ));
            }
            values.push(v32);
        }
        rows += 1;
    }
    Ok((values, rows, cols.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array3};
    use ndarray_npy::write_npy;

    fn grid() -> Array2<f64> {
        Array2::from_shape_fn((5, 3), |(i, j)| i as f64 * 0.5 - j as f64 * 1.25 + 0.1)
    }

    fn assert_close(t: &Tensor, a: &Array2<f64>) {
        assert_eq!(t.size(), [a.nrows() as i64, a.ncols() as i64]);
        assert_eq!(t.kind(), Kind::Float);
        for ((i, j), v) in a.indexed_iter() {
            assert_eq!(t.double_value(&[i as i64, j as i64]), (*v as f32) as f64);
        }
    }

    #[test]
    fn round_trips_npy_and_csv() {
        let dir = tempfile::tempdir().unwrap();
        let a = grid();
        let p64 = dir.path().join("a64.npy");
        write_npy(&p64, &a).unwrap();
        let p32 = dir.path().join("a32.npy");
        write_npy(&p32, &a.mapv(|v| v as f32)).unwrap();
        let pf = dir.path().join("fortran.npy");
        write_npy(&pf, &a.t().to_owned().reversed_axes()).unwrap();
        let pt = dir.path().join("a_t.npy");
        write_npy(&pt, &a.t()).unwrap(); // Fortran-ordered view of the transpose
        for p in [&p64, &p32, &pf] {
            let d = DataFile::load(p).unwrap();
            assert_eq!((d.len(), d.dim()), (5, 3));
            assert_close(&d.data(Device::Cpu), &a);
        }
        assert_close(
            &DataFile::load(&pt).unwrap().data(Device::Cpu),
            &a.t().to_owned(),
        );
        let csv = dir.path().join("d.csv");
        let mut text = String::from("# a comment\n x , y , z\n");
        for r in a.rows() {
            let s: Vec<String> = r.iter().map(|v| format!("{v}")).collect();
            text += &s.join(", ");
            text += "\n";
        }
        std::fs::write(&csv, text.clone() + "\n").unwrap();
        let d = DataFile::load(&csv).unwrap();
        assert_eq!(d.name(), "d");
        assert_close(&d.data(Device::Cpu), &a);
        let tsv = dir.path().join("d.tsv");
        std::fs::write(&tsv, text.replace(',', "\t")).unwrap();
        assert_close(&DataFile::load(&tsv).unwrap().data(Device::Cpu), &a);
    }

    #[test]
    fn samples_rows_uniformly() {
        let _rng = crate::rng::seed_exclusive(12);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("four.csv");
        std::fs::write(&p, "0,10\n1,11\n2,12\n3,13\n").unwrap();
        let d = DataFile::load(&p).unwrap();
        let n = 40_000i64;
        let s = d.sample(n as usize, Device::Cpu);
        assert_eq!(s.size(), [n, 2]);
        // every draw is a row of the file: column 1 = column 0 + 10
        let gap = (s.select(1, 1) - s.select(1, 0) - 10.0).abs().max();
        assert_eq!(gap.double_value(&[]), 0.0);
        // counts ~ Binomial(n, 1/4): within 5 sd = 5 √(n·¼·¾) ≈ 433
        let counts = s
            .select(1, 0)
            .to_kind(Kind::Int64)
            .bincount(None::<Tensor>, 4);
        for k in 0..4 {
            let c = counts.int64_value(&[k]) as f64;
            assert!(
                (c - 10_000.0).abs() < 5.0 * (n as f64 * 0.1875).sqrt(),
                "{c}"
            );
        }
        // (Reproducibility under `tch::manual_seed` is not asserted here: libtorch's generator is
        // global, and tests running in parallel threads draw from it in between.)
    }

    #[test]
    fn bad_files_name_the_file_and_the_fault() {
        let dir = tempfile::tempdir().unwrap();
        let err = |name: &str| {
            let p = dir.path().join(name);
            let e = DataFile::load(&p).unwrap_err().to_string();
            assert!(e.contains(&p.display().to_string()), "{e}");
            e
        };
        let write =
            |name: &str, bytes: &[u8]| std::fs::write(dir.path().join(name), bytes).unwrap();
        assert!(err("missing.npy").contains("no such file"));
        // truncated data and truncated header
        write_npy(dir.path().join("full.npy"), &grid()).unwrap();
        let full = std::fs::read(dir.path().join("full.npy")).unwrap();
        write("cut.npy", &full[..full.len() - 7]);
        assert!(err("cut.npy").contains("truncated"));
        write("cuthead.npy", &full[..20]);
        assert!(err("cuthead.npy").contains("truncated"));
        write("junk.npy", b"this is not numpy data at all, just text\n");
        assert!(err("junk.npy").contains("not a valid .npy"));
        write_npy(dir.path().join("int.npy"), &Array2::<i64>::zeros((3, 2))).unwrap();
        assert!(err("int.npy").contains("wrong dtype"));
        write_npy(dir.path().join("one.npy"), &Array1::<f32>::zeros(4)).unwrap();
        assert!(err("one.npy").contains("not 2-D: the array has 1 dim"));
        write_npy(
            dir.path().join("three.npy"),
            &Array3::<f64>::zeros((2, 2, 2)),
        )
        .unwrap();
        assert!(err("three.npy").contains("not 2-D: the array has 3 dim"));
        write_npy(dir.path().join("empty.npy"), &Array2::<f32>::zeros((0, 2))).unwrap();
        assert!(err("empty.npy").contains("empty"));
        let mut nan = grid();
        nan[[3, 1]] = f64::NAN;
        write_npy(dir.path().join("nan.npy"), &nan).unwrap();
        let e = err("nan.npy");
        assert!(
            e.contains("non-finite") && e.contains("row 4, column 2"),
            "{e}"
        );
        write_npy(
            dir.path().join("big.npy"),
            &Array2::from_elem((2, 2), 1e300f64),
        )
        .unwrap();
        assert!(err("big.npy").contains("non-finite"));
        // text files
        write("ragged.csv", b"1,2\n3,4\n5,6,7\n");
        assert!(err("ragged.csv").contains("line 3 has 3 columns"));
        write("word.csv", b"x,y\n1,2\n3,abc\n");
        let e = err("word.csv");
        assert!(e.contains("line 3, column 2") && e.contains("abc"), "{e}");
        write("hole.csv", b"1,2\n,4\n");
        assert!(err("hole.csv").contains("line 2, column 1"));
        write("inf.csv", b"1,2\n3,inf\n");
        assert!(err("inf.csv").contains("non-finite"));
        write("empty.csv", b"");
        assert!(err("empty.csv").contains("empty"));
        write("header_only.csv", b"x,y\n");
        assert!(err("header_only.csv").contains("empty"));
        write("data.json", b"[]");
        assert!(err("data.json").contains("unsupported"));
    }
}
