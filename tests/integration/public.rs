//! A public data set nobody here wrote: vega_datasets' airports.csv (from
//! PyPI), with quoted names holding commas, codes such as `00M` and a
//! state written `NA`. Python's csv module computes the answer.

use serde_json::Value;

use crate::util::{PIPE, ok, parse_reduced};

#[test]
fn us_airports_per_state() {
    let d = crate::util::written_by("tests/integration/public.d/airports.py", "");
    let answer: Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("answer.json")).expect("answer"),
    )
    .expect("JSON");
    let answer = answer.as_object().expect("object");
    let file = d.path().join("airports.csv");
    let job = "--key state --value latitude --distinct city";
    let pipe = ok(&format!("mapfold-map {job} < {} | {PIPE}", file.display()));
    let out = d.path().join("out");
    ok(&format!(
        "mapfold run --quiet --input {} --output {} {job} --split-size 20000",
        file.display(),
        out.display()
    ));
    assert_eq!(ok(&format!("cat {}/part-*", out.display())), pipe);
    let got = parse_reduced(&pipe);
    assert_eq!(
        got.len(),
        answer.len() + 1,
        "one group per state, and the counters"
    );
    for (state, want) in answer {
        let g = &got[state.as_str()];
        assert_eq!(g["count"], want[0], "{state}");
        let sum: f64 = want[1].as_str().expect("sum").parse().expect("f64");
        assert_eq!(g["sum"].as_f64(), Some(sum), "{state}");
        assert_eq!(g["distinct"]["city"]["count"], want[2], "{state}");
    }
    // `NA` is a state here as the file writes it; told so, it is missing.
    assert!(got.contains_key("NA"));
    let missing = parse_reduced(&ok(&format!(
        "mapfold-map {job} --text-na-values=,NA < {} | {PIPE}",
        file.display()
    )));
    assert_eq!(missing["\\N"]["count"], answer["NA"][0]);
}
