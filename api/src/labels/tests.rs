use super::*;

fn fitter(id: &str) -> Fitter {
    let template = Template::find(id).unwrap();
    Fitter::new(FONTS.as_ref().unwrap(), &Geometry::of(template))
}

fn assert_inside(f: &Fitter, set: &[Placed]) {
    for p in set {
        assert!(
            f.fonts.width(&p.text, p.style) <= f.width,
            "{:?} is wider than {}",
            p.text,
            f.width
        );
        assert!(p.style.size >= MIN_SIZE, "{p:?}");
        assert!(
            p.baseline <= f.height,
            "{p:?} below the box of {}",
            f.height
        );
        assert!(
            p.baseline - p.style.size * 0.75 >= 0.0,
            "{p:?} above the box"
        );
    }
}

#[test]
fn the_qr_code_is_as_tall_as_a_one_inch_label_allows() {
    let g = Geometry::of(Template::find("avery-5160").unwrap());
    let side_mm = g.qr_side / PT_PER_MM;
    assert!((21.0..=23.0).contains(&side_mm), "{side_mm} mm");
    for t in TEMPLATES {
        let side_mm = Geometry::of(t).qr_side / PT_PER_MM;
        assert!(side_mm >= 15.0, "{}: {side_mm} mm", t.id);
    }
}

#[test]
fn a_short_label_keeps_its_natural_sizes() {
    let f = fitter("avery-5160");
    let set = f.place(&[
        Line::Title("Drill".into()),
        Line::Text("000-123".into()),
        Line::Text("House › Garage".into()),
    ]);
    assert_eq!(set.len(), 3);
    assert_eq!(set[0].style.size, f.title);
    assert_eq!(set[0].style.weight, Weight::Bold);
    assert_eq!(set[1].style.size, f.text);
    assert_inside(&f, &set);
}

#[test]
fn a_long_name_wraps_then_shrinks_then_is_cut_but_never_overflows() {
    for t in TEMPLATES {
        let f = fitter(t.id);
        let name = "Cordless hammer drill with two batteries, a charger and a case of bits \
                    "
        .repeat(4);
        let set = f.place(&[
            Line::Title(name.clone()),
            Line::Text("000-123".into()),
            Line::Text("House › Basement › Workshop › Shelf 3 › Blue box on the left".into()),
            Line::Text("Ask before borrowing".into()),
        ]);
        assert!(set[0].text.starts_with("Cordless"), "{}", t.id);
        assert!(
            set.iter().any(|p| p.text.ends_with('…')),
            "{}: {set:?}",
            t.id
        );
        assert!(set.iter().any(|p| p.text == "000-123"), "{}", t.id);
        assert_inside(&f, &set);
    }
}

#[test]
fn a_word_without_spaces_is_cut_to_the_width() {
    let f = fitter("dymo-30252");
    let set = f.place(&[Line::Title("W".repeat(300)), Line::Text("x".repeat(500))]);
    assert_inside(&f, &set);
    // The name is broken inside the word onto a second line, which ends cut; so does the
    // other line.
    assert!(set.len() >= 2);
    for placed in &set[1..] {
        assert!(placed.text.ends_with('…'), "{set:?}");
    }
}

#[test]
fn contents_list_what_fits_then_how_many_more() {
    let f = fitter("avery-5160");
    let names: Vec<String> = (1..=40).map(|i| format!("Box of things {i}")).collect();
    let set = f.place(&[
        Line::Title("Shelf 2".into()),
        Line::Contents {
            names: names.clone(),
            more: 10,
        },
    ]);
    assert_inside(&f, &set);
    let text: Vec<&str> = set[1..].iter().map(|p| p.text.as_str()).collect();
    let joined = text.join(" ");
    let shown = names.iter().filter(|n| joined.contains(n.as_str())).count();
    assert!(shown >= 2, "{joined}");
    assert!(
        joined.ends_with(&format!("+ {} more", 50 - shown)),
        "{joined}"
    );
}

#[test]
fn contents_that_fit_say_no_more() {
    let f = fitter("avery-l7160");
    let set = f.place(&[
        Line::Title("Drawer".into()),
        Line::Contents {
            names: vec!["Tape".into(), "Scissors".into()],
            more: 0,
        },
    ]);
    assert_eq!(set[1].text, "Tape, Scissors");
    let empty = f.place(&[Line::Contents {
        names: vec![],
        more: 0,
    }]);
    assert_eq!(empty[0].text, "Empty");
}

#[test]
fn too_many_lines_for_the_height_lose_the_last_ones() {
    let f = fitter("brother-29x90");
    let mut lines = vec![Line::Title("Drill".into())];
    lines.extend((0..30).map(|i| Line::Text(format!("line {i}"))));
    let set = f.place(&lines);
    assert!(set.len() < lines.len());
    assert_eq!(set[0].text, "Drill");
    assert_inside(&f, &set);
}

#[test]
fn pages_count_the_skipped_positions() {
    let sheet = Template::find("avery-5160").unwrap();
    assert_eq!(pages(sheet, 30, 0), 1);
    assert_eq!(pages(sheet, 30, 1), 2);
    assert_eq!(pages(sheet, 1, 29), 1);
    let roll = Template::find("dymo-30252").unwrap();
    assert_eq!(pages(roll, 7, 0), 7);
}

#[test]
fn the_address_has_one_slash_before_q() {
    assert_eq!(
        address("https://home.example/", "000123"),
        "https://home.example/q/000123"
    );
}
