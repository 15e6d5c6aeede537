//! The models' parameters deserialise through their constructors: a parameter that
//! is not a positive finite number is refused when read, and valid ones round-trip.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use solocrm_models::{BgNbd, GammaGamma, MbgNbd, ParetoNbd};

/// Serialises `v` to a JSON value, lets `edit` break it, and returns the error of
/// reading it back, which must fail.
fn refused<T: Serialize + DeserializeOwned + std::fmt::Debug>(
    v: &T,
    edit: impl FnOnce(&mut Value),
) -> String {
    let mut json = serde_json::to_value(v).expect("serializes");
    edit(&mut json);
    match serde_json::from_value::<T>(json.clone()) {
        Ok(back) => panic!("{json} was accepted as {back:?}"),
        Err(e) => e.to_string(),
    }
}

/// Asserts `v` survives JSON: the same value, and the same bytes when written again.
fn round_trips<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(v: &T) {
    let text = serde_json::to_string(v).expect("serializes");
    let back: T =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text} does not read back: {e}"));
    assert_eq!(&back, v, "{text}");
    assert_eq!(serde_json::to_string(&back).expect("serializes"), text);
}

#[test]
fn model_parameters_must_be_positive() {
    let bg = BgNbd::new(0.24, 4.41, 0.79, 2.43).expect("valid");
    assert_eq!(
        refused(&bg, |j| j["alpha"] = json!(-1.0)),
        "parameter alpha = -1 must be a positive finite number"
    );
    let mbg = MbgNbd::new(0.24, 4.41, 0.79, 2.43).expect("valid");
    assert_eq!(
        refused(&mbg, |j| j["b"] = json!(0.0)),
        "parameter b = 0 must be a positive finite number"
    );
    let pareto = ParetoNbd::new(0.55, 10.5, 0.61, 11.7).expect("valid");
    assert_eq!(
        refused(&pareto, |j| j["s"] = json!(-0.5)),
        "parameter s = -0.5 must be a positive finite number"
    );
    let gg = GammaGamma::new(6.25, 3.74, 15.44).expect("valid");
    assert_eq!(
        refused(&gg, |j| j["gamma"] = json!(0.0)),
        "parameter gamma = 0 must be a positive finite number"
    );
}

#[test]
fn valid_parameters_round_trip() {
    round_trips(&BgNbd::new(0.24, 4.41, 0.79, 2.43).expect("valid"));
    round_trips(&MbgNbd::new(1e-6, 1e6, 0.5, 0.5).expect("valid"));
    round_trips(&ParetoNbd::new(0.55, 10.5, 0.61, 11.7).expect("valid"));
    round_trips(&GammaGamma::new(6.25, 3.74, 15.44).expect("valid"));
}
