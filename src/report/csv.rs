//! `--format csv`: a header, then one RFC 4180 row per input on stdout.

use std::io::Write;

use super::Reporter;
use crate::pyfmt::float::repr_f64;
use crate::result::Classification;

/// `input_path,page_index,class_id_1,label_1,score_1,...,error`.
pub(crate) struct CsvRows<'w> {
    writer: csv::Writer<Box<dyn Write + 'w>>,
    topk: usize,
}

impl<'w> CsvRows<'w> {
    /// Writes the header for `topk` classes to `out`.
    pub(crate) fn new(out: Box<dyn Write + 'w>, topk: usize) -> std::io::Result<Self> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(header(topk))?;
        writer.flush()?;
        Ok(CsvRows { writer, topk })
    }
}

/// The header row.
pub(crate) fn header(topk: usize) -> Vec<String> {
    let mut cols = vec!["input_path".to_string(), "page_index".to_string()];
    for i in 1..=topk {
        cols.extend([
            format!("class_id_{i}"),
            format!("label_{i}"),
            format!("score_{i}"),
        ]);
    }
    cols.push("error".into());
    cols
}

fn page(page_index: Option<usize>) -> String {
    page_index.map_or(String::new(), |p| p.to_string())
}

impl Reporter for CsvRows<'_> {
    fn success(&mut self, res: &Classification) -> std::io::Result<()> {
        let mut row = vec![res.input_path.clone(), page(res.page_index)];
        for i in 0..self.topk {
            match (
                res.class_ids.get(i),
                res.label_names.get(i),
                res.scores.get(i),
            ) {
                (Some(id), Some(label), Some(score)) => {
                    row.extend([id.to_string(), label.clone(), repr_f64(f64::from(*score))])
                }
                _ => row.extend([String::new(), String::new(), String::new()]),
            }
        }
        row.push(String::new());
        self.writer.write_record(&row)?;
        self.writer.flush()
    }

    fn failure(
        &mut self,
        input_path: &str,
        page_index: Option<usize>,
        reason: &str,
    ) -> std::io::Result<()> {
        let mut row = vec![input_path.to_string(), page(page_index)];
        row.extend(std::iter::repeat_n(String::new(), self.topk * 3));
        row.push(reason.to_string());
        self.writer.write_record(&row)?;
        self.writer.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_quoted_and_padded() {
        let mut buf = Vec::new();
        {
            let mut r = CsvRows::new(Box::new(&mut buf), 2).unwrap();
            let res = Classification {
                input_path: "a,b.png".into(),
                page_index: None,
                class_ids: vec![281],
                scores: vec![0.5],
                label_names: vec!["tabby, tabby cat".into()],
            };
            r.success(&res).unwrap();
            r.failure("x.png", Some(1), "the file is \"empty\"")
                .unwrap();
        }
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "input_path,page_index,class_id_1,label_1,score_1,class_id_2,label_2,score_2,error"
        );
        assert_eq!(lines[1], "\"a,b.png\",,281,\"tabby, tabby cat\",0.5,,,,");
        assert_eq!(lines[2], "x.png,1,,,,,,,\"the file is \"\"empty\"\"\"");
    }
}
