//! Reading a label sheet back the way a printer and a phone would: the page size and count
//! from poppler's `pdfinfo`, where each word lies from `pdftotext -bbox`, and each QR code
//! (with where it is) from the page rendered at 300 dpi by `pdftoppm` and read by zbar's
//! `zbarimg`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use api::labels::{PT_PER_MM, Template};

/// A PDF written to a temporary folder, with what poppler and zbar read from it.
pub struct Pdf {
    dir: tempfile::TempDir,
    path: PathBuf,
}

/// A word and its box, in points from the page's top-left corner.
#[derive(Clone, Debug)]
pub struct Word {
    pub page: usize,
    pub text: String,
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} runs (Debian's poppler-utils and zbar-tools are installed): {e}")
        });
    assert!(
        out.status.success() || program == "zbarimg",
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Pdf {
    pub fn new(bytes: &[u8]) -> Self {
        assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("labels.pdf");
        std::fs::write(&path, bytes).unwrap();
        Self { dir, path }
    }

    fn file(&self) -> &str {
        self.path.to_str().unwrap()
    }

    /// Pages, and the first page's size in points.
    pub fn info(&self) -> (usize, (f32, f32)) {
        let info = run("pdfinfo", &[self.file()]);
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or_else(|| panic!("no {name} in {info}"))
                .to_string()
        };
        let pages = field("Pages:").parse().unwrap();
        let size = field("Page size:");
        let parts: Vec<&str> = size.split_whitespace().collect();
        (
            pages,
            (parts[0].parse().unwrap(), parts[2].parse().unwrap()),
        )
    }

    /// Every word of every page with its box.
    pub fn words(&self) -> Vec<Word> {
        let html = run("pdftotext", &["-bbox", self.file(), "-"]);
        let mut words = Vec::new();
        let mut page = 0;
        for line in html.lines() {
            let line = line.trim();
            if line.starts_with("<page ") {
                page += 1;
            }
            let Some(rest) = line.strip_prefix("<word ") else {
                continue;
            };
            let attr = |name: &str| -> f32 {
                let start = rest.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                rest[start..].split('"').next().unwrap().parse().unwrap()
            };
            let text = rest
                .split_once('>')
                .and_then(|(_, t)| t.strip_suffix("</word>"))
                .unwrap_or_default()
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"");
            words.push(Word {
                page,
                text,
                x0: attr("xMin"),
                y0: attr("yMin"),
                x1: attr("xMax"),
                y1: attr("yMax"),
            });
        }
        words
    }

    /// The QR codes zbar reads on each page rendered at 300 dpi, page after page. The
    /// page is rendered as a printer prints it, each square on whole dots without gray
    /// edges (zbar looking for thirty codes at once on an anti-aliased page sometimes
    /// misses one that it reads alone; `codes_in` reads them anti-aliased).
    pub fn codes(&self) -> Vec<Vec<String>> {
        let prefix = self.dir.path().join("page");
        run(
            "pdftoppm",
            &[
                "-r",
                "300",
                "-aaVector",
                "no",
                "-png",
                self.file(),
                prefix.to_str().unwrap(),
            ],
        );
        let mut pages: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "png"))
            .collect();
        // page-01.png, page-02.png, … (zero-padded to the count's width).
        pages.sort();
        pages.iter().map(|png| read_codes(png)).collect()
    }

    /// The QR codes zbar reads in one rectangle (left, top, right, bottom in points) of a
    /// page (from 1), rendered alone at 300 dpi.
    pub fn codes_in(&self, page: usize, (x0, y0, x1, y1): (f32, f32, f32, f32)) -> Vec<String> {
        let px = |pt: f32| ((pt * 300.0 / 72.0).round() as i64).to_string();
        let out = self.dir.path().join(format!("cell-{page}"));
        let page = page.to_string();
        run(
            "pdftoppm",
            &[
                "-r",
                "300",
                "-png",
                "-singlefile",
                "-f",
                &page,
                "-l",
                &page,
                "-x",
                &px(x0),
                "-y",
                &px(y0),
                "-W",
                &px(x1 - x0),
                "-H",
                &px(y1 - y0),
                self.file(),
                out.to_str().unwrap(),
            ],
        );
        read_codes(&out.with_extension("png"))
    }
}

/// What the QR codes zbar finds in an image say.
fn read_codes(png: &Path) -> Vec<String> {
    run("zbarimg", &["-q", "--raw", png.to_str().unwrap()])
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The cell (label) of `template` at `position` on a page: left, top, right, bottom in
/// points.
pub fn cell(template: &Template, position: u32) -> (f32, f32, f32, f32) {
    let (x, y) = template.cell(position);
    let (x, y) = (x as f32 * PT_PER_MM, y as f32 * PT_PER_MM);
    (
        x,
        y,
        x + template.label_width as f32 * PT_PER_MM,
        y + template.label_height as f32 * PT_PER_MM,
    )
}

/// Which position of the page the point lies in, if any.
fn position_of(template: &Template, x: f32, y: f32) -> Option<u32> {
    (0..template.labels_per_page()).find(|&p| {
        let (x0, y0, x1, y1) = cell(template, p);
        x >= x0 && x <= x1 && y >= y0 && y <= y1
    })
}

/// The words a label holds, grouped by (page, position); a word outside every label fails.
pub fn words_by_label(template: &Template, words: &[Word]) -> BTreeMap<(usize, u32), Vec<Word>> {
    let mut by_label: BTreeMap<(usize, u32), Vec<Word>> = BTreeMap::new();
    for word in words {
        let middle = ((word.x0 + word.x1) / 2.0, (word.y0 + word.y1) / 2.0);
        let position = position_of(template, middle.0, middle.1)
            .unwrap_or_else(|| panic!("{word:?} lies on no label of {}", template.id));
        let (x0, y0, x1, y1) = cell(template, position);
        // pdftotext's boxes are the font's whole height; a hair of tolerance for rounding.
        assert!(
            word.x0 >= x0 - 0.5
                && word.x1 <= x1 + 0.5
                && word.y0 >= y0 - 0.5
                && word.y1 <= y1 + 0.5,
            "{word:?} leaves its label ({x0}, {y0}, {x1}, {y1}) on {}",
            template.id
        );
        by_label
            .entry((word.page, position))
            .or_default()
            .push(word.clone());
    }
    by_label
}
