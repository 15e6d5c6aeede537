//! Exact, seeded simulation of each model, for tests and benchmarks.
//!
//! "Exact" means the generative story itself is sampled, with no time grid: per customer
//! the latent rates (and dropout probability) are drawn from their mixing distributions,
//! then purchase times are drawn as a Poisson process (exponential gaps) until the
//! customer dies or the observation ends. The generator is xoshiro256** seeded through
//! SplitMix64 (Blackman & Vigna); Gamma variates by Marsaglia & Tsang (2000), with the
//! U^(1/k) boost for shapes below 1 (done in logs, so tiny shapes do not underflow);
//! Beta variates as X / (X + Y) of two Gammas. The same seed always gives the same
//! customers on every platform.

use chrono::NaiveDate;

use super::bg_nbd::{BgNbd, Family, Variant};
use super::gamma_gamma::GammaGamma;
use super::mbg_nbd::MbgNbd;
use super::pareto_nbd::ParetoNbd;
use super::summary::CountData;
use super::{ModelError, PurchaseModel};
use solocrm_core::ids::CustomerId;
use solocrm_core::money::Currency;
use solocrm_core::purchase::PurchaseLog;

/// A small, fast, seeded pseudo-random generator (xoshiro256**).
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator seeded from `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            x ^ (x >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform on the open interval (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1_u64 << 53) as f64)
    }

    /// Uniform on [lo, hi).
    pub fn uniform_in(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// A standard normal variate (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// An exponential variate with the given rate.
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -self.uniform().ln() / rate
    }

    /// ln of a Gamma(shape, 1) variate.
    fn ln_gamma_unit(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            // G(k) = G(k + 1) U^(1/k).
            return self.ln_gamma_unit(shape + 1.0) + self.uniform().ln() / shape;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return (d * v).ln();
            }
        }
    }

    /// A Gamma variate with the given shape and rate (mean shape / rate).
    pub fn gamma(&mut self, shape: f64, rate: f64) -> f64 {
        self.ln_gamma_unit(shape).exp() / rate
    }

    /// A Beta(a, b) variate.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.ln_gamma_unit(a);
        let y = self.ln_gamma_unit(b);
        1.0 / (1.0 + (y - x).exp())
    }
}

/// A model that can be simulated.
pub trait Simulate: PurchaseModel {
    /// Draws one customer and appends the times of their repeat purchases in (0, t] to
    /// `out` (cleared first), in increasing order.
    fn simulate_customer(&self, rng: &mut Rng, t: f64, out: &mut Vec<f64>);
}

fn family_customer(f: &Family, rng: &mut Rng, t: f64, out: &mut Vec<f64>) {
    out.clear();
    let lambda = rng.gamma(f.r, f.alpha);
    let p = rng.beta(f.a, f.b);
    if f.variant == Variant::Mbg && rng.uniform() < p {
        return;
    }
    let mut now = 0.0;
    loop {
        now += rng.exponential(lambda);
        if now > t {
            return;
        }
        out.push(now);
        if rng.uniform() < p {
            return;
        }
    }
}

impl Simulate for BgNbd {
    fn simulate_customer(&self, rng: &mut Rng, t: f64, out: &mut Vec<f64>) {
        family_customer(&self.as_family(), rng, t, out);
    }
}

impl Simulate for MbgNbd {
    fn simulate_customer(&self, rng: &mut Rng, t: f64, out: &mut Vec<f64>) {
        family_customer(&self.as_family(), rng, t, out);
    }
}

impl Simulate for ParetoNbd {
    fn simulate_customer(&self, rng: &mut Rng, t: f64, out: &mut Vec<f64>) {
        out.clear();
        let lambda = rng.gamma(self.r(), self.alpha());
        let mu = rng.gamma(self.s(), self.beta());
        let end = rng.exponential(mu).min(t);
        let mut now = 0.0;
        loop {
            now += rng.exponential(lambda);
            if now > end {
                return;
            }
            out.push(now);
        }
    }
}

/// Simulated customers: (frequency, recency, T) columns, and mean spend if simulated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimulatedCustomers {
    /// Repeat purchases x.
    pub frequency: Vec<u32>,
    /// Time of the last repeat purchase (0 if none).
    pub recency: Vec<f64>,
    /// Length of observation since the first purchase.
    pub t: Vec<f64>,
    /// Mean spend per repeat purchase (0 for x = 0); empty unless spend was simulated.
    pub monetary: Vec<f64>,
}

impl SimulatedCustomers {
    /// Simulates one customer per entry of `t` (their observation lengths).
    pub fn simulate<M: Simulate>(model: &M, t: &[f64], seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut out = SimulatedCustomers::default();
        let mut times = Vec::new();
        for &tt in t {
            model.simulate_customer(&mut rng, tt, &mut times);
            out.frequency.push(times.len() as u32);
            out.recency.push(times.last().copied().unwrap_or(0.0));
            out.t.push(tt);
        }
        out
    }

    /// Simulates `n` customers with T uniform on [t_min, t_max).
    pub fn simulate_uniform_t<M: Simulate>(
        model: &M,
        n: usize,
        t_min: f64,
        t_max: f64,
        seed: u64,
    ) -> Self {
        let mut rng = Rng::new(seed ^ 0x05ee_d0f7);
        let t: Vec<f64> = (0..n).map(|_| rng.uniform_in(t_min, t_max)).collect();
        SimulatedCustomers::simulate(model, &t, seed)
    }

    /// Adds Gamma-Gamma mean spends for the simulated frequencies.
    pub fn with_spend(mut self, spend: &GammaGamma, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        self.monetary = self
            .frequency
            .iter()
            .map(|&x| spend.simulate_mean_spend(&mut rng, x))
            .collect();
        self
    }

    /// The number of customers.
    pub fn len(&self) -> usize {
        self.frequency.len()
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.frequency.is_empty()
    }

    /// The collapsed data for fitting.
    ///
    /// # Errors
    ///
    /// As [`CountData::new`].
    pub fn count_data(&self) -> Result<CountData, ModelError> {
        CountData::new(&self.frequency, &self.recency, &self.t)
    }
}

/// Simulates a whole store's purchase log, in days: `customers` customers whose first
/// purchase falls uniformly on the `acquisition_days` days before `calibration_end`
/// (at a uniform second of that day), each followed by the model's repeat purchases (time
/// unit: days) up to `observe_days` after the calibration end, with Gamma-Gamma amounts
/// (model in major units, rounded to cents) if `spend` is given, else 10.00 each.
///
/// Same-day purchases may occur and merge in the summary, so the summary is the model
/// observed on a day grid. For benchmarks and tests.
#[allow(clippy::too_many_arguments)]
pub fn simulate_purchase_log<M: Simulate>(
    model: &M,
    spend: Option<&GammaGamma>,
    customers: usize,
    calibration_end: NaiveDate,
    acquisition_days: u32,
    observe_days: u32,
    currency: Currency,
    seed: u64,
) -> PurchaseLog {
    let mut rng = Rng::new(seed);
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    let end_day = (calibration_end - epoch).num_days();
    let ids: Vec<CustomerId> = (1..=customers as u64).map(CustomerId::new).collect();
    let mut log = PurchaseLog::with_customers(currency, ids);
    let mut times = Vec::new();
    let scale = 10_f64.powi(currency.minor_unit_digits() as i32);
    for c in 0..customers {
        let first_day = end_day - i64::from(rng.next_u64() as u32 % acquisition_days.max(1));
        let first_at = first_day * 86_400 + (rng.next_u64() % 86_400) as i64;
        let horizon = (end_day - first_day) as f64 + f64::from(observe_days) + 1.0;
        model.simulate_customer(&mut rng, horizon, &mut times);
        let nu = spend.map(|g| rng.gamma(g.q(), g.gamma()));
        let amount = |rng: &mut Rng| -> i64 {
            match (spend, nu) {
                (Some(g), Some(nu)) => (rng.gamma(g.p(), nu) * scale).round() as i64,
                _ => (10.0 * scale) as i64,
            }
        };
        let first_amount = amount(&mut rng);
        log.push(c as u32, first_at, first_amount);
        for &t in &times {
            let a = amount(&mut rng);
            log.push(c as u32, first_at + (t * 86_400.0) as i64, a);
        }
    }
    log
}
