//! The first sheet of labels as it will print: the page and its label cells drawn to
//! scale from the template's measurements, the cells skipped (already used) shown so,
//! and each label's lines of text.

use shared::{LabelKind, LabelTemplate};
use yew::prelude::*;

/// The lines of one label (its first line is its name), in print order.
pub type LabelText = Vec<String>;

#[derive(Properties, PartialEq)]
pub struct SheetPreviewProps {
    pub template: LabelTemplate,
    /// Cells already used on the first sheet.
    pub skip: usize,
    /// The labels, in order; only those that fit on the first sheet are drawn.
    pub labels: Vec<LabelText>,
    /// How many labels are printed in all (more than `labels` holds while they load).
    pub total: usize,
}

/// A length in mm as a share of `whole`, for CSS.
fn pct(mm: f64, whole: f64) -> String {
    format!("{:.4}%", if whole > 0.0 { mm / whole * 100.0 } else { 0.0 })
}

/// Where cell `index` (row by row) is on the page: (left, top) in mm.
pub fn cell_origin(t: &LabelTemplate, index: usize) -> (f64, f64) {
    let columns = t.columns.max(1) as usize;
    let (row, column) = (index / columns, index % columns);
    (
        t.margin_left_mm + column as f64 * t.pitch_x_mm,
        t.margin_top_mm + row as f64 * t.pitch_y_mm,
    )
}

#[function_component(SheetPreview)]
pub fn sheet_preview(props: &SheetPreviewProps) -> Html {
    let t = &props.template;
    let per_page = t.labels_per_page.max(1) as usize;
    let skip = props.skip.min(per_page - 1);
    let on_first = props.total.min(per_page - skip);
    let sheets = (skip + props.total).div_ceil(per_page).max(1);
    let (pw, ph) = (t.page_width_mm, t.page_height_mm);
    let page = use_node_ref();
    {
        // Sizes and places are set through the CSS object model once drawn: the site's
        // Content-Security-Policy allows no `style` attributes.
        let page = page.clone();
        let (page_style, cell_styles) = sheet_styles(t);
        use_effect_with(
            (page_style, cell_styles, props.total, skip),
            move |(page_style, cell_styles, _, _)| {
                if let Some(ol) = page.cast::<web_sys::HtmlElement>() {
                    ol.style().set_css_text(page_style);
                    let cells = ol.children();
                    for (i, css) in cell_styles.iter().enumerate() {
                        if let Some(cell) = cells.item(i as u32).and_then(|c| {
                            wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(c).ok()
                        }) {
                            cell.style().set_css_text(css);
                        }
                    }
                }
            },
        );
    }
    let cells = (0..per_page).map(|index| {
        let number = index + 1;
        if index < skip {
            return html! {
                <li key={index} class="sheet-cell is-used" aria-label={format!("Label {number}: already used")}>
                    <span class="sheet-used" aria-hidden="true">{ "used" }</span>
                </li>
            };
        }
        let nth = index - skip;
        if nth >= on_first {
            return html! {
                <li key={index} class="sheet-cell is-blank" aria-label={format!("Label {number}: blank")} />
            };
        }
        let lines = props.labels.get(nth).cloned();
        html! {
            <li key={index} class="sheet-cell is-printed"
                aria-label={format!("Label {number}: {}", lines.as_ref().map_or("…".to_string(), |l| l.join(", ")))}>
                <span class="sheet-qr" aria-hidden="true" />
                <span class="sheet-lines" aria-hidden="true">
                    { for lines.unwrap_or_default().into_iter().enumerate().map(|(i, line)| html! {
                        <span class={classes!("sheet-line", (i == 0).then_some("sheet-line-first"))}>{ line }</span>
                    }) }
                </span>
            </li>
        }
    });
    html! {
        <figure class="sheet-preview">
            <ol class="sheet-page" ref={page} aria-label={format!("First sheet of {} ({} by {} mm)", t.name, trim(pw), trim(ph))}>
                { for cells }
            </ol>
            <figcaption class="muted">
                if t.kind == LabelKind::Roll {
                    { format!(
                        "{}, one per label from the roll",
                        crate::format::count(props.total as i64, "label", "labels"),
                    ) }
                } else {
                { format!(
                    "{} on {} · {} per sheet{}",
                    crate::format::count(props.total as i64, "label", "labels"),
                    if sheets == 1 { "1 sheet".to_string() } else { format!("{sheets} sheets") },
                    per_page,
                    if skip > 0 { format!(" · first {skip} skipped") } else { String::new() },
                ) }
                }
            </figcaption>
        </figure>
    }
}

/// The page's shape and each cell's place on it, as CSS: (page, cells row by row).
fn sheet_styles(t: &LabelTemplate) -> (String, Vec<String>) {
    let (pw, ph) = (t.page_width_mm, t.page_height_mm);
    let per_page = t.labels_per_page.max(1) as usize;
    let cells = (0..per_page)
        .map(|index| {
            let (left, top) = cell_origin(t, index);
            format!(
                "left: {}; top: {}; width: {}; height: {};",
                pct(left, pw),
                pct(top, ph),
                pct(t.label_width_mm, pw),
                pct(t.label_height_mm, ph)
            )
        })
        .collect();
    (format!("aspect-ratio: {pw} / {ph};"), cells)
}

/// `66.675` as it is, `62.0` as `62`.
fn trim(mm: f64) -> String {
    let text = format!("{mm:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
