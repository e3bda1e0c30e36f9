//! `mapfold plot`: files that decode, pictures that are not blank, bars that
//! match the bins, notes that state what is outside them, bytes that repeat.

use std::path::{Path, PathBuf};

use crate::util::{bash, ok};

const WEATHER: &str = "fixtures/weather/*.csv";

fn job(dir: &Path, name: &str, flags: &str) -> PathBuf {
    let out = dir.join(name);
    ok(&format!(
        "mapfold run --quiet --input {WEATHER} --output {} {flags} --split-size 5000",
        out.display()
    ));
    out
}

/// Width, height and the fraction of non-white pixels of a PNG.
fn png_facts(p: &Path) -> (u32, u32, f64) {
    let bytes = std::fs::read(p).expect("png file");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "PNG signature");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let px = info.color_type.samples();
    let data = &buf[..info.buffer_size()];
    let inked = data
        .chunks(px)
        .filter(|c| c.iter().take(3).any(|&v| v < 200))
        .count();
    (
        info.width,
        info.height,
        inked as f64 / (data.len() / px) as f64,
    )
}

fn svg(p: &Path) -> String {
    let text = std::fs::read_to_string(p).expect("svg file");
    roxmltree::Document::parse(&text).expect("SVG parses as XML");
    text
}

#[test]
fn each_kind_renders_as_png_and_svg() {
    let dir = tempfile::tempdir().expect("tempdir");
    let overall = job(dir.path(), "overall", "--value temp --hist=-5:5:20");
    let by_year = job(dir.path(), "by-year", "--value temp --key year");
    let by_town = job(dir.path(), "by-town", "--value temp --key town");
    for (out, kind, extra) in [
        (&overall, "hist", "--fit normal"),
        (&by_year, "series", ""),
        (&by_town, "bars", "--sort value"),
        (&by_year, "splits", ""),
    ] {
        let png = dir.path().join(format!("{kind}.png"));
        ok(&format!(
            "mapfold plot {} --kind {kind} {extra} -o {} --width 800 --height 500",
            out.display(),
            png.display()
        ));
        let (w, h, inked) = png_facts(&png);
        assert_eq!((w, h), (800, 500), "{kind}");
        assert!(inked > 0.03, "{kind}: plot is nearly blank ({inked})");
        let svg_path = dir.path().join(format!("{kind}.svg"));
        ok(&format!(
            "mapfold plot {} --kind {kind} {extra} -o {}",
            out.display(),
            svg_path.display()
        ));
        let text = svg(&svg_path);
        assert!(text.contains("width=\"1000\" height=\"600\""), "{kind}");
    }
}

#[test]
fn natural_kinds_and_axis_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, flags, kind, label) in [
        ("h", "--value temp --hist=-5:5:20", "Hist", "temp"),
        ("s", "--value precip --key year", "Series", "year"),
        (
            "b",
            "--value temp --key country,town",
            "Bars",
            "country,town",
        ),
    ] {
        let out = job(dir.path(), name, flags);
        let p = dir.path().join(format!("{name}.svg"));
        let o = bash(&format!(
            "mapfold plot {} -o {}",
            out.display(),
            p.display()
        ));
        assert!(o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(&format!("({kind})")),
            "{name}"
        );
        assert!(
            svg(&p).contains(&format!("\n{label}\n")),
            "{name}: axis named {label}"
        );
    }
}

#[test]
fn one_bar_per_bin_and_tails_stated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = job(dir.path(), "narrow", "--value temp --hist=-1:1:10");
    let part = std::fs::read_to_string(out.join("part-00000")).expect("part");
    let star = part.lines().find(|l| l.starts_with("*\t")).expect("* row");
    let v: serde_json::Value = serde_json::from_str(&star[2..]).expect("json");
    let (under, over) = (
        v["hist"]["underflow"].as_u64().expect("u"),
        v["hist"]["overflow"].as_u64().expect("o"),
    );
    assert!(under > 0 && over > 0);
    let p = dir.path().join("h.svg");
    ok(&format!(
        "mapfold plot {} -o {}",
        out.display(),
        p.display()
    ));
    let text = svg(&p);
    assert_eq!(
        text.matches("fill=\"#4C72B0\"").count(),
        10,
        "one bar per bin"
    );
    assert!(
        text.contains(&format!("underflow (&lt; -1) {under}")),
        "{text}"
    );
    assert!(text.contains(&format!("overflow (&gt; 1) {over}")));
}

#[test]
fn rendering_is_deterministic_and_run_can_plot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("o");
    let first = dir.path().join("first.png");
    ok(&format!(
        "mapfold run --quiet --input {WEATHER} --output {} --value temp --key year --plot {}",
        out.display(),
        first.display()
    ));
    let second = dir.path().join("second.png");
    ok(&format!(
        "mapfold plot {} -o {}",
        out.display(),
        second.display()
    ));
    assert_eq!(
        std::fs::read(&first).expect("a"),
        std::fs::read(&second).expect("b")
    );
    let (s1, s2) = (dir.path().join("1.svg"), dir.path().join("2.svg"));
    ok(&format!(
        "mapfold plot {} -o {} && mapfold plot {} -o {}",
        out.display(),
        s1.display(),
        out.display(),
        s2.display()
    ));
    assert_eq!(
        std::fs::read(&s1).expect("a"),
        std::fs::read(&s2).expect("b")
    );
}

#[test]
fn long_series_are_decimated_without_losing_spikes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("days");
    std::fs::create_dir(&out).expect("mkdir");
    let mut text = String::from("\t{\"counters\":{\"lines_in\":100000,\"malformed\":0}}\n");
    for i in 0..100_000u32 {
        let v = match i {
            31_337 => 1000.0,
            77_777 => -1000.0,
            _ => f64::from(i % 17) / 17.0,
        };
        text.push_str(&format!(
            "{i}\t{{\"count\":1,\"mean\":{v},\"min\":{v},\"max\":{v}}}\n"
        ));
    }
    std::fs::write(out.join("part-00000"), text).expect("write");
    let p = dir.path().join("s.svg");
    ok(&format!(
        "mapfold plot {} --kind series --stat mean -o {}",
        out.display(),
        p.display()
    ));
    let svg_text = svg(&p);
    assert!(
        svg_text.contains("decimated 100,000 points"),
        "note says so"
    );
    let doc = roxmltree::Document::parse(&svg_text).expect("xml");
    let line = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke") == Some("#4C72B0"))
        .max_by_key(|n| n.attribute("points").map_or(0, str::len))
        .expect("the series line");
    let ys: Vec<f64> = line
        .attribute("points")
        .expect("points")
        .split_whitespace()
        .filter_map(|p| p.split(',').nth(1)?.parse().ok())
        .collect();
    assert!(
        ys.len() < 4 * 1000,
        "decimated to at most 4 points per column: {}",
        ys.len()
    );
    let extent = ys.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - ys.iter().copied().fold(f64::INFINITY, f64::min);
    // Both spikes survive: the line spans (nearly) the whole plot height.
    assert!(extent > 380.0, "line spans only {extent} px");
}

#[test]
fn plot_errors_say_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = bash(&format!("mapfold plot {}", dir.path().display()));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no part-* files"));
    let out = job(dir.path(), "nohist", "--value temp");
    let o = bash(&format!(
        "mapfold plot {} --kind hist -o {}/x.png",
        out.display(),
        dir.path().display()
    ));
    assert!(String::from_utf8_lossy(&o.stderr).contains("run the job with --hist"));
    let o = bash(&format!(
        "mapfold plot {} -o {}/x.jpg",
        out.display(),
        dir.path().display()
    ));
    assert!(String::from_utf8_lossy(&o.stderr).contains(".png or .svg"));
}

/// Reduced outputs no job of the demo makes: every kind of plot finishes in
/// bounded time (a `timeout` would kill a hang) and draws something.
#[test]
fn any_reduced_output_plots_in_bounded_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let counters = "\t{\"counters\":{\"lines_in\":0}}\n";
    let row = |k: &str, mean: &str, min: &str, max: &str| {
        format!(
            "{k}\t{{\"count\":2,\"sum\":{mean},\"mean\":{mean},\"stddev\":1,\"min\":{min},\"max\":{max}}}\n"
        )
    };
    let many: String = (0..1_000_000)
        .map(|i| row(&i.to_string(), &(i % 977).to_string(), "-1", "1000"))
        .collect();
    let cases: Vec<(&str, String)> = vec![
        (
            "huge",
            [
                row("1990", "0", "-1e308", "1e308"),
                row("1991", "1e307", "-1e308", "1e308"),
                row(
                    "1992",
                    "-1.7976931348623157e308",
                    "-1.7976931348623157e308",
                    "1.7976931348623157e308",
                ),
            ]
            .concat(),
        ),
        (
            "tiny",
            [
                row("1", "5e-324", "5e-324", "1e-323"),
                row("2", "1e-310", "0", "1e-309"),
            ]
            .concat(),
        ),
        (
            "constant",
            [row("1", "3", "3", "3"), row("2", "3", "3", "3")].concat(),
        ),
        ("one-key", row("2000", "1", "1", "1")),
        (
            "nonfinite",
            [row("1", "\"inf\"", "1", "2"), row("2", "1", "1", "2")].concat(),
        ),
        (
            "mixed-keys",
            [
                row("10", "1", "0", "2"),
                row("b", "2", "0", "2"),
                row("9", "3", "0", "2"),
                row("-1", "4", "0", "2"),
                row("a", "5", "0", "2"),
            ]
            .concat(),
        ),
        ("million-keys", many),
    ];
    for (name, rows) in cases {
        let out = dir.path().join(name);
        std::fs::create_dir(&out).expect("mkdir");
        std::fs::write(out.join("part-00000"), format!("{counters}{rows}")).expect("write");
        for kind in ["series", "bars"] {
            if kind == "series" && name == "mixed-keys" {
                continue;
            }
            let png = dir.path().join(format!("{name}-{kind}.png"));
            let o = bash(&format!(
                "timeout 120 mapfold plot {} --kind {kind} -o {}",
                out.display(),
                png.display()
            ));
            assert!(
                o.status.success(),
                "{name} {kind}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            let (_, _, inked) = png_facts(&png);
            assert!(inked > 0.01, "{name} {kind}: blank picture");
        }
    }
}

/// Bars show key text as written (no CSV quoting), `(missing)` for a
/// missing key, and how many rows each bar stands on; the series of the
/// mean draws its confidence band and says what the bands are.
#[test]
fn plots_say_what_they_show() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("dest");
    ok(&format!(
        "mapfold run --quiet --input fixtures/real/flights.csv --output {} --value arr_delay --key dest,carrier --text-na-values=,NA",
        out.display()
    ));
    let p = dir.path().join("bars.svg");
    ok(&format!(
        "mapfold plot {} --kind bars -o {}",
        out.display(),
        p.display()
    ));
    let text = svg(&p);
    assert!(text.contains("EWR, CAE \u{b7} UA"), "key text as written");
    assert!(
        !text.contains("\"EWR") && !text.contains("&quot;EWR"),
        "no CSV quoting"
    );
    assert!(text.contains("(missing)"), "the missing carrier group");
    assert!(text.contains("n=13"), "rows per bar");
    let years = dir.path().join("years");
    ok(&format!(
        "mapfold run --quiet --input {WEATHER} --output {} --value temp --key year",
        years.display()
    ));
    let p = dir.path().join("series.svg");
    ok(&format!(
        "mapfold plot {} -o {}",
        years.display(),
        p.display()
    ));
    let text = svg(&p);
    assert!(
        text.contains("95% CI of the mean") && text.contains("\u{b1}1 sd"),
        "legend"
    );
    assert!(!text.contains("min..max"), "min..max only on request");
    let p = dir.path().join("range.svg");
    ok(&format!(
        "mapfold plot {} --range -o {}",
        years.display(),
        p.display()
    ));
    assert!(svg(&p).contains("min..max"));
}

/// With --quantiles the series draws the median in its quantile bands and
/// the histogram marks the quantiles, each saying so; --stat mean still
/// draws the mean, and a median asked of output without one is refused.
#[test]
fn quantiles_are_drawn_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let years = job(dir.path(), "years", "--value temp --key year --quantiles");
    let p = dir.path().join("median.svg");
    ok(&format!(
        "mapfold plot {} -o {}",
        years.display(),
        p.display()
    ));
    let text = svg(&p);
    for want in [
        "median of temp per year",
        "p25..p75",
        "p5..p95",
        "quantiles within 0.78%",
    ] {
        assert!(text.contains(want), "{want} in the median series");
    }
    let p = dir.path().join("mean.svg");
    ok(&format!(
        "mapfold plot {} --stat mean -o {}",
        years.display(),
        p.display()
    ));
    assert!(svg(&p).contains("95% CI of the mean"));
    let all = job(dir.path(), "all", "--value temp --quantiles --hist=-3:3:30");
    let p = dir.path().join("hist.svg");
    ok(&format!(
        "mapfold plot {} -o {}",
        all.display(),
        p.display()
    ));
    // Text elements hold their text on a line of its own.
    let text = svg(&p).replace('\n', "");
    // Every quantile asked for (the default list) is marked.
    for want in [
        ">p1<", ">p5<", ">p10<", ">p25<", ">median<", ">p75<", ">p90<", ">p95<", ">p99<",
    ] {
        assert!(text.contains(want), "{want} in the histogram");
    }
    let plain = job(dir.path(), "plain", "--value temp --key year");
    let o = bash(&format!(
        "mapfold plot {} --stat median -o {}/x.png",
        plain.display(),
        dir.path().display()
    ));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no key has a median"));
}

/// A 2-D histogram draws as a heatmap by default, in each colour scale,
/// with what fell outside the grid stated, and the correlation in words.
#[test]
fn heatmaps_render_with_their_tails_stated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let grid = job(
        dir.path(),
        "grid",
        "--value temp --hist2d=precip=-2:2:20,temp=-2:2:20 --corr precip,temp",
    );
    for scale in ["linear", "log", "equalized"] {
        let p = dir.path().join(format!("{scale}.png"));
        let said = ok(&format!(
            "mapfold plot {} --color-scale {scale} -o {} 2>&1",
            grid.display(),
            p.display()
        ));
        assert!(said.contains("(Heatmap)"), "{said}");
        let (w, h, inked) = png_facts(&p);
        assert_eq!((w, h), (1000, 600));
        assert!(inked > 0.2, "{scale}: {inked} of the picture inked");
    }
    let p = dir.path().join("heat.svg");
    ok(&format!(
        "mapfold plot {} -o {}",
        grid.display(),
        p.display()
    ));
    let text = svg(&p).replace('\n', "");
    for want in [
        "outside it",
        "colour: log count",
        ">count<",
        ">precip<",
        ">temp<",
        "temp on precip: r = ",
    ] {
        assert!(text.contains(want), "{want} in the heatmap");
    }
    let plain = job(dir.path(), "plain", "--value temp");
    let o = bash(&format!(
        "mapfold plot {} --kind heatmap -o {}/x.png",
        plain.display(),
        dir.path().display()
    ));
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--hist2d"));
}

/// Text elements of an SVG, each as its text.
fn texts(p: &Path) -> Vec<String> {
    let text = svg(p);
    let doc = roxmltree::Document::parse(&text).expect("SVG parses as XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().trim().to_owned())
        .collect()
}

/// What each picture says matches the answer: codes are bars, not a
/// line; time buckets are a series on a time axis; no bar stands for the
/// keys left out (the note says what they hold); filters are named; whole
/// ticks have no `.0`; a series can have a log axis.
#[test]
fn plots_show_the_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let mut codes = String::from("state,rate,when\n");
    for (i, s) in ["01", "02", "04", "56", "72"].iter().enumerate() {
        for j in 0..20 {
            codes += &format!(
                "{s},{},2016-{:02}-{:02} 10:00:00\n",
                i * 3 + j % 4,
                1 + j % 12,
                1 + i
            );
        }
    }
    std::fs::write(d.join("codes.csv"), codes).expect("write");
    let run = |name: &str, flags: &str| {
        ok(&format!(
            "mapfold run --quiet --input {0}/codes.csv --output {0}/{name} {flags}",
            d.display()
        ));
        d.join(name)
    };
    let plot = |out: &Path, extra: &str, file: &str| -> String {
        let p = d.join(file);
        let said = ok(&format!(
            "mapfold plot {} {extra} -o {} 2>&1",
            out.display(),
            p.display()
        ));
        assert!(said.contains("wrote"), "{said}");
        said
    };
    let states = run("states", "--value rate --key state");
    assert!(
        plot(&states, "", "states.svg").contains("(Bars)"),
        "codes are bars"
    );
    let months = run(
        "months",
        "--value rate --key 'month(when)' --where 'rate>=1'",
    );
    assert!(plot(&months, "", "months.svg").contains("(Series)"));
    let t = texts(&d.join("months.svg"));
    assert!(
        t.iter().any(|x| x.starts_with("2016-0")),
        "time ticks: {t:?}"
    );
    assert!(
        t.iter().any(|x| x.contains("only rows with rate>=1")),
        "{t:?}"
    );
    plot(&months, "--log-y", "log.svg");
    assert!(
        texts(&d.join("log.svg"))
            .iter()
            .any(|x| x.contains("log scale"))
    );
    plot(
        &states,
        "--kind bars --sort value --top 2 --stat count",
        "top.svg",
    );
    let t = texts(&d.join("top.svg"));
    assert!(
        !t.iter().any(|x| x.starts_with("other")),
        "no other bar: {t:?}"
    );
    assert!(
        t.iter()
            .any(|x| x.contains("the other 3 keys hold count 60")),
        "{t:?}"
    );
    for file in ["states.svg", "months.svg", "top.svg"] {
        let t = texts(&d.join(file));
        assert!(
            !t.iter()
                .any(|x| x.ends_with(".0") && x.parse::<f64>().is_ok()),
            "{file}: a tick with .0: {t:?}"
        );
    }
}
