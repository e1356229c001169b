//! Deterministic generator of smart-city sensor data in InfluxDB line protocol.
//!
//! The generator simulates the sensor network of a city (Beijing-like, twelve districts
//! such as `haidian` or `chaoyang`, local time UTC+8) and renders every reading as one
//! line of [InfluxDB line protocol] with a nanosecond timestamp. It feeds unit tests,
//! criterion benchmarks and the load benchmark that is also sent to InfluxDB 1.6 and
//! VictoriaMetrics, so the output is deliberately plain: no escaping is ever needed,
//! tag keys are sorted, floats are printed without exponent, integers carry the `i`
//! suffix, booleans are `true`/`false`.
//!
//! # What is generated
//!
//! | measurement   | tags                        | fields (resolution)                                         | interval | timestamp precision |
//! |---------------|-----------------------------|-------------------------------------------------------------|----------|---------------------|
//! | `air_quality` | `district`, `station`       | `pm25` (1), `pm10` (1), `no2` (0.1), `temperature` (0.1 °C), `humidity` (1 %) — all floats | 60 s | ms |
//! | `traffic`     | `detector`, `district`, `road` | `vehicle_count` (integer), `avg_speed` (0.1 km/h), `occupancy` (0.01, fraction 0–1) | 30 s | ms |
//! | `noise`       | `district`, `site`          | `laeq` (0.1 dB)                                             | 10 s     | ms |
//! | `river`       | `district`, `gauge`, `river` | `level` (0.001 m), `flow` (0.1 m³/s)                       | 60 s     | ms |
//! | `parking`     | `district`, `lot`           | `free_spaces` (integer), `occupied` (bool, only lots with a barrier, i.e. every other lot: `pk-0001`, `pk-0003`, …; `true` when fewer than 5 % of the spaces are free), `capacity` (integer, constant) | 30 s | ms |
//! | `power`       | `district`, `meter`         | `energy_kwh` (0.01 kWh, cumulative, non-decreasing), `power_kw` (0.1), `voltage` (0.1 V) | 15 s | ms |
//!
//! Every value is a mean-reverting random walk layered on a daily cycle of the local time
//! of day (temperature peaks in the afternoon, traffic at the 8:00 and 18:00 rush hours,
//! noise is higher by day, parking and power follow residential / commercial / industrial
//! profiles) plus a few city-wide slow "weather" signals (temperature anomaly, pollution
//! episodes, rain raising the rivers). Values are clamped to plausible ranges and kept as
//! integer counts of their resolution step; they are printed with integer arithmetic as
//! the shortest decimal (`214` steps of 0.1 print as `21.4`, `210` as `21`), which is
//! exactly what Rust's `{}` formatting of the parsed `f64` prints.
//!
//! Each sensor samples on its own grid `start + phase + k·interval` (the phase is a
//! per-sensor offset), and every timestamp is jittered: 90 % of the points within ±2 ms,
//! the rest within ±50 ms.
//! All timestamps lie in `[start_ns, start_ns + duration_ns)`.
//!
//! The stream is ordered by timestamp across all sensors, like gateways forwarding in real
//! time, except that about 1 % of the points are *late*: they are held back and emitted
//! 90 s to 10 min (of simulated time) after their own timestamp, so each such point is out
//! of order within its series.
//!
//! # Determinism
//!
//! The output is a pure function of [`CityConfig`]: the same config produces the same bytes
//! on every run and every platform, independently of how the stream is cut into batches.
//! All randomness comes from [`ChaCha8Rng`] streams seeded from [`CityConfig::seed`] (plus
//! `splitmix64` hashing for the city-wide signals); all simulation arithmetic is integer
//! arithmetic (the only floating-point operation is a correctly rounded IEEE square root);
//! the event queue is keyed by `(timestamp, sensor index)`; no hash map is iterated.
//!
//! # Scales
//!
//! | scale          | sensors (air, traffic, noise, river, parking, power) | duration | lines     | field values |
//! |----------------|------------------------------------------------------|----------|-----------|--------------|
//! | [`Scale::Tiny`]  | 3, 4, 4, 2, 4, 4                                   | 20 min   | 1 220     | 2 700        |
//! | [`Scale::Small`] | 12, 64, 80, 6, 48, 136                             | 6 h      | 455 760   | 1 010 880    |
//! | [`Scale::Day`]   | 48, 320, 400, 24, 240, 672                         | 24 h     | 9 043 200 | 19 975 680   |
//!
//! All scales start at [`DEFAULT_START_NS`] (2026-11-01T00:00:00Z) with [`DEFAULT_SEED`].
//! [`CityConfig::custom`] builds any other configuration; [`CityConfig::expected_lines`] and
//! [`CityConfig::expected_values`] give exact totals without generating anything.
//!
//! ```
//! use ganzhi::citygen::{CityConfig, CityGen, Scale};
//! let config = CityConfig::scale(Scale::Tiny);
//! let mut gen = CityGen::new(&config);
//! let mut body = Vec::new();
//! while gen.next_batch(&mut body, 5_000) > 0 {
//!     // send `body` somewhere
//!     body.clear();
//! }
//! assert_eq!(gen.values_emitted(), config.expected_values());
//! ```
//!
//! [InfluxDB line protocol]: https://docs.influxdata.com/influxdb/v1.6/write_protocols/line_protocol_reference/

use std::cmp::Reverse;
use std::collections::binary_heap::PeekMut;
use std::collections::BinaryHeap;

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// 2026-11-01T00:00:00Z in nanoseconds since the Unix epoch: the default start time.
pub const DEFAULT_START_NS: i64 = 1_793_491_200 * NS_PER_SEC;
/// Seed used by [`CityConfig::scale`].
pub const DEFAULT_SEED: u64 = 0x6761_6e7a_6869_2026;
/// The districts of the simulated city; sensors are spread over them round-robin.
pub const DISTRICTS: [&str; 12] = [
    "dongcheng",
    "xicheng",
    "chaoyang",
    "haidian",
    "fengtai",
    "shijingshan",
    "tongzhou",
    "shunyi",
    "changping",
    "daxing",
    "fangshan",
    "mentougou",
];

const NS_PER_SEC: i64 = 1_000_000_000;
const NS_PER_MS: i64 = 1_000_000;
/// The city's local time is UTC+8 (daily cycles follow local time).
const UTC_OFFSET_SECS: i64 = 8 * 3600;
/// Grid phases keep this distance from the interval edges, so jittered timestamps stay in
/// `[start, end)` and never cross a neighbour's grid slot.
const PHASE_MARGIN_NS: i64 = 300 * NS_PER_MS;
const NARROW_JITTER_NS: i64 = 2 * NS_PER_MS;
const WIDE_JITTER_NS: i64 = 50 * NS_PER_MS;
/// Probability (out of 2^32) that a point is late: 1 %.
const LATE_THRESHOLD: u32 = 42_949_673;
const LATE_MIN_NS: i64 = 90 * NS_PER_SEC;
const LATE_MAX_NS: i64 = 600 * NS_PER_SEC;

const ROADS: [&str; 16] = [
    "2nd-ring",
    "3rd-ring",
    "4th-ring",
    "5th-ring",
    "airport-expwy",
    "jingzang-expwy",
    "jingtong-expwy",
    "jingkai-expwy",
    "badaling-expwy",
    "changan-ave",
    "zhongguancun-st",
    "xueyuan-rd",
    "chaoyang-rd",
    "jianguo-rd",
    "fuxing-rd",
    "guangqu-rd",
];
/// Roads with an index below this are ring roads / expressways (faster, busier).
const MAJOR_ROADS: usize = 9;
const RIVERS: [&str; 8] = [
    "yongding",
    "chaobai",
    "wenyu",
    "liangshui",
    "tonghui",
    "qinghe",
    "beiyun",
    "nansha",
];

// Daily profiles by local hour, in permille, linearly interpolated in between.
/// cos(2π(h − 15)/24): temperature peaking at 15:00.
const TEMP_PROFILE: [i16; 24] = [
    -707, -866, -966, -1000, -966, -866, -707, -500, -259, 0, 259, 500, 707, 866, 966, 1000, 966,
    866, 707, 500, 259, 0, -259, -500,
];
const TRAFFIC_PROFILE: [i16; 24] = [
    80, 50, 35, 30, 40, 120, 380, 850, 1000, 780, 600, 620, 650, 620, 640, 720, 850, 1000, 920,
    650, 480, 380, 260, 150,
];
const ACTIVITY_PROFILE: [i16; 24] = [
    300, 250, 220, 200, 220, 350, 600, 850, 950, 900, 850, 850, 850, 850, 850, 870, 920, 950, 900,
    800, 700, 600, 500, 400,
];
const PARKING_PROFILES: [[i16; 24]; 3] = [
    // commercial
    [
        100, 80, 70, 60, 60, 80, 150, 300, 550, 750, 850, 900, 970, 960, 920, 880, 850, 800, 700,
        550, 400, 300, 200, 150,
    ],
    // residential
    [
        950, 960, 975, 975, 975, 950, 900, 750, 550, 450, 400, 400, 400, 400, 400, 420, 480, 600,
        750, 850, 900, 930, 940, 950,
    ],
    // transit (park and ride)
    [
        50, 40, 40, 40, 50, 120, 400, 800, 960, 980, 980, 970, 960, 960, 950, 920, 850, 650, 400,
        250, 150, 100, 80, 60,
    ],
];
const POWER_PROFILES: [[i16; 24]; 3] = [
    // residential
    [
        450, 380, 340, 320, 320, 360, 500, 700, 650, 550, 500, 520, 550, 520, 500, 520, 600, 800,
        1000, 1000, 950, 850, 700, 550,
    ],
    // commercial
    [
        300, 280, 270, 270, 280, 320, 450, 700, 900, 1000, 1000, 980, 950, 980, 1000, 1000, 950,
        850, 650, 500, 420, 380, 340, 320,
    ],
    // industrial
    [
        700, 700, 700, 700, 700, 720, 800, 950, 1000, 1000, 1000, 980, 950, 1000, 1000, 1000, 980,
        900, 800, 750, 720, 710, 700, 700,
    ],
];

// Keys of the city-wide slow signals.
const KEY_TEMP: u64 = 0x7465_6d70;
const KEY_PM: u64 = 0x706d_3235;
const KEY_RAIN: u64 = 0x7261_696e;

/// Preset sizes of the generated data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    /// A few sensors for 20 minutes (about 2 700 field values): unit tests.
    Tiny,
    /// A small city for 6 hours (about 1 M field values).
    Small,
    /// The full city for one day (about 20 M field values).
    Day,
}

/// The kinds of sensors, in the order they are numbered and seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SensorKind {
    /// Air-quality stations (`air_quality`).
    AirQuality,
    /// Traffic detectors (`traffic`).
    Traffic,
    /// Noise meters (`noise`).
    Noise,
    /// River gauges (`river`).
    River,
    /// Parking lots (`parking`).
    Parking,
    /// Power meters (`power`).
    Power,
}

impl SensorKind {
    /// All kinds, in order.
    pub const ALL: [SensorKind; 6] = [
        SensorKind::AirQuality,
        SensorKind::Traffic,
        SensorKind::Noise,
        SensorKind::River,
        SensorKind::Parking,
        SensorKind::Power,
    ];

    /// The measurement name written for this kind.
    pub fn measurement(self) -> &'static str {
        match self {
            SensorKind::AirQuality => "air_quality",
            SensorKind::Traffic => "traffic",
            SensorKind::Noise => "noise",
            SensorKind::River => "river",
            SensorKind::Parking => "parking",
            SensorKind::Power => "power",
        }
    }

    /// Nominal interval between two readings of one sensor, in nanoseconds.
    pub fn interval_ns(self) -> i64 {
        NS_PER_SEC
            * match self {
                SensorKind::AirQuality => 60,
                SensorKind::Traffic => 30,
                SensorKind::Noise => 10,
                SensorKind::River => 60,
                SensorKind::Parking => 30,
                SensorKind::Power => 15,
            }
    }

    /// Timestamps of this kind are multiples of this many nanoseconds: gateways stamp
    /// readings at millisecond precision.
    fn precision_ns(self) -> i64 {
        let _ = self;
        NS_PER_MS
    }

    /// Field values per line of sensor number `index` of this kind.
    pub fn fields_per_line(self, index: usize) -> u32 {
        match self {
            SensorKind::AirQuality => 5,
            SensorKind::Traffic => 3,
            SensorKind::Noise => 1,
            SensorKind::River => 2,
            SensorKind::Parking => {
                if parking_has_barrier(index) {
                    3
                } else {
                    2
                }
            }
            SensorKind::Power => 3,
        }
    }
}

/// Lots with an even 0-based index (ids `pk-0001`, `pk-0003`, …) have a barrier and report
/// `occupied`.
fn parking_has_barrier(index: usize) -> bool {
    index & 1 == 0
}

/// Number of sensors of each kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SensorCounts {
    /// Air-quality stations.
    pub air_quality: usize,
    /// Traffic detectors.
    pub traffic: usize,
    /// Noise meters.
    pub noise: usize,
    /// River gauges.
    pub river: usize,
    /// Parking lots.
    pub parking: usize,
    /// Power meters.
    pub power: usize,
}

impl SensorCounts {
    /// The count for one kind.
    pub fn get(&self, kind: SensorKind) -> usize {
        match kind {
            SensorKind::AirQuality => self.air_quality,
            SensorKind::Traffic => self.traffic,
            SensorKind::Noise => self.noise,
            SensorKind::River => self.river,
            SensorKind::Parking => self.parking,
            SensorKind::Power => self.power,
        }
    }

    /// Total number of sensors (= number of series).
    pub fn total(&self) -> usize {
        SensorKind::ALL.iter().map(|&k| self.get(k)).sum()
    }
}

/// Everything that determines the generated stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CityConfig {
    /// Seed of all randomness.
    pub seed: u64,
    /// Start of the simulated period, nanoseconds since the Unix epoch.
    pub start_ns: i64,
    /// Length of the simulated period in nanoseconds.
    pub duration_ns: i64,
    /// Sensors per kind.
    pub sensors: SensorCounts,
}

impl CityConfig {
    /// The preset configuration of a [`Scale`] (default seed and start time).
    pub fn scale(scale: Scale) -> Self {
        let (sensors, duration_ns) = match scale {
            Scale::Tiny => (
                SensorCounts {
                    air_quality: 3,
                    traffic: 4,
                    noise: 4,
                    river: 2,
                    parking: 4,
                    power: 4,
                },
                20 * 60 * NS_PER_SEC,
            ),
            Scale::Small => (
                SensorCounts {
                    air_quality: 12,
                    traffic: 64,
                    noise: 80,
                    river: 6,
                    parking: 48,
                    power: 136,
                },
                6 * 3600 * NS_PER_SEC,
            ),
            Scale::Day => (
                SensorCounts {
                    air_quality: 48,
                    traffic: 320,
                    noise: 400,
                    river: 24,
                    parking: 240,
                    power: 672,
                },
                24 * 3600 * NS_PER_SEC,
            ),
        };
        Self::custom(sensors, duration_ns, DEFAULT_START_NS, DEFAULT_SEED)
    }

    /// Any other configuration.
    pub fn custom(sensors: SensorCounts, duration_ns: i64, start_ns: i64, seed: u64) -> Self {
        CityConfig {
            seed,
            start_ns,
            duration_ns,
            sensors,
        }
    }

    /// The same configuration with another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// End of the simulated period (exclusive): every timestamp is below it.
    pub fn end_ns(&self) -> i64 {
        self.start_ns.saturating_add(self.duration_ns.max(0))
    }

    /// Exact number of lines the whole run produces, computed without generating.
    pub fn expected_lines(&self) -> u64 {
        self.expected_totals().0
    }

    /// Exact number of field values the whole run produces, computed without generating.
    pub fn expected_values(&self) -> u64 {
        self.expected_totals().1
    }

    fn expected_totals(&self) -> (u64, u64) {
        let mut lines = 0u64;
        let mut values = 0u64;
        for kind in SensorKind::ALL {
            let mut phases = phase_rng(self.seed, kind);
            for index in 0..self.sensors.get(kind) {
                let n = u64::from(points_of(self, kind, draw_phase(&mut phases, kind)));
                lines += n;
                values += n * u64::from(kind.fields_per_line(index));
            }
        }
        (lines, values)
    }
}

/// Streaming generator of the data set of one [`CityConfig`].
pub struct CityGen {
    seed: u64,
    sensors: Vec<Sensor>,
    /// Next reading of each active sensor, keyed by (timestamp, sensor index).
    queue: BinaryHeap<Reverse<(i64, u32)>>,
    /// Late lines, keyed by (release time, sequence number, slot).
    late: BinaryHeap<Reverse<(i64, u64, u32)>>,
    late_slots: Vec<LateLine>,
    free_slots: Vec<u32>,
    late_seq: u64,
    rng: ChaCha8Rng,
    lines: u64,
    values: u64,
}

struct LateLine {
    bytes: Vec<u8>,
    values: u32,
}

impl CityGen {
    /// Prepares the generator (cheap: only the sensors' static parameters are drawn).
    pub fn new(config: &CityConfig) -> Self {
        let mut sensors = Vec::with_capacity(config.sensors.total());
        for kind in SensorKind::ALL {
            let mut phases = phase_rng(config.seed, kind);
            let mut params = ChaCha8Rng::seed_from_u64(config.seed);
            params.set_stream(16 + kind as u64);
            for index in 0..config.sensors.get(kind) {
                let phase = draw_phase(&mut phases, kind);
                sensors.push(Sensor::new(config, kind, index, phase, &mut params));
            }
        }
        assert!(sensors.len() < u32::MAX as usize, "too many sensors");

        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        rng.set_stream(1);
        let mut queue = BinaryHeap::with_capacity(sensors.len());
        for (i, sensor) in sensors.iter().enumerate() {
            if sensor.n > 0 {
                queue.push(Reverse((sensor.timestamp(&mut rng), i as u32)));
            }
        }
        CityGen {
            seed: config.seed,
            sensors,
            queue,
            late: BinaryHeap::new(),
            late_slots: Vec::new(),
            free_slots: Vec::new(),
            late_seq: 0,
            rng,
            lines: 0,
            values: 0,
        }
    }

    /// Appends the next `max_lines` lines (each ending in `'\n'`) to `out`; returns how many
    /// lines it appended (0 when exhausted).
    pub fn next_batch(&mut self, out: &mut Vec<u8>, max_lines: usize) -> usize {
        let mut appended = 0;
        while appended < max_lines {
            // A late line whose release time has come goes first.
            if let Some(&Reverse((release, _, slot))) = self.late.peek() {
                let due = match self.queue.peek() {
                    Some(&Reverse((ts, _))) => release <= ts,
                    None => true,
                };
                if due {
                    self.late.pop();
                    let line = &self.late_slots[slot as usize];
                    out.extend_from_slice(&line.bytes);
                    self.lines += 1;
                    self.values += u64::from(line.values);
                    self.free_slots.push(slot);
                    appended += 1;
                    continue;
                }
            }
            let Some(mut top) = self.queue.peek_mut() else {
                break;
            };
            let Reverse((ts, index)) = *top;
            let sensor = &mut self.sensors[index as usize];
            let rng = &mut self.rng;
            if rng.next_u32() < LATE_THRESHOLD {
                let delay = LATE_MIN_NS + uniform(rng, LATE_MAX_NS - LATE_MIN_NS);
                let slot = match self.free_slots.pop() {
                    Some(slot) => slot,
                    None => {
                        self.late_slots.push(LateLine {
                            bytes: Vec::with_capacity(128),
                            values: 0,
                        });
                        (self.late_slots.len() - 1) as u32
                    }
                };
                let line = &mut self.late_slots[slot as usize];
                line.bytes.clear();
                line.values = sensor.write_point(rng, self.seed, ts, &mut line.bytes);
                self.late.push(Reverse((ts + delay, self.late_seq, slot)));
                self.late_seq += 1;
            } else {
                self.values += u64::from(sensor.write_point(rng, self.seed, ts, out));
                self.lines += 1;
                appended += 1;
            }
            sensor.k += 1;
            if sensor.k < sensor.n {
                *top = Reverse((sensor.timestamp(rng), index));
            } else {
                PeekMut::pop(top);
            }
        }
        appended
    }

    /// Field values written so far.
    pub fn values_emitted(&self) -> u64 {
        self.values
    }

    /// Lines written so far.
    pub fn lines_emitted(&self) -> u64 {
        self.lines
    }

    /// True once every line has been written.
    pub fn is_exhausted(&self) -> bool {
        self.queue.is_empty() && self.late.is_empty()
    }
}

/// Convenience: the whole dataset as one body.
pub fn generate_all(config: &CityConfig) -> Vec<u8> {
    let mut gen = CityGen::new(config);
    let mut out = Vec::with_capacity((config.expected_lines() as usize).saturating_mul(96));
    gen.next_batch(&mut out, usize::MAX);
    out
}

// ---------------------------------------------------------------------------------------
// Sensors

struct Sensor {
    prefix: Box<[u8]>,
    /// First grid time (absolute ns).
    grid0: i64,
    interval: i64,
    precision: i64,
    /// Index of the next point to emit.
    k: u32,
    /// Number of points of the whole run.
    n: u32,
    model: Model,
}

enum Model {
    Air(Air),
    Traffic(Traffic),
    Noise(Noise),
    River(River),
    Parking(Parking),
    Power(Power),
}

fn phase_rng(seed: u64, kind: SensorKind) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(8 + kind as u64);
    rng
}

fn draw_phase(rng: &mut ChaCha8Rng, kind: SensorKind) -> i64 {
    let span = (kind.interval_ns() - 2 * PHASE_MARGIN_NS) / NS_PER_MS;
    PHASE_MARGIN_NS + uniform(rng, span) * NS_PER_MS
}

/// Number of grid points `phase + k·interval` (k ≥ 0) below `duration − margin`.
fn points_of(config: &CityConfig, kind: SensorKind, phase: i64) -> u32 {
    let room = config.duration_ns - PHASE_MARGIN_NS - phase;
    if room <= 0 {
        return 0;
    }
    let interval = kind.interval_ns();
    let n = (room + interval - 1) / interval;
    u32::try_from(n).expect("too many points per sensor")
}

impl Sensor {
    fn new(
        config: &CityConfig,
        kind: SensorKind,
        index: usize,
        phase: i64,
        p: &mut ChaCha8Rng,
    ) -> Self {
        let district = DISTRICTS[(index * 7 + kind as usize * 3) % DISTRICTS.len()];
        let id = index + 1;
        let (prefix, model) = match kind {
            SensorKind::AirQuality => (
                format!("air_quality,district={district},station=aq-{id:04} "),
                Model::Air(Air {
                    pm_base: range(p, 25, 70),
                    pm_ratio: range(p, 130, 190),
                    no2_base: range(p, 250, 450),
                    temp_off: range(p, -15, 15),
                    hum_off: range(p, -8, 8),
                    pm_dev: 0,
                    pm10_dev: 0,
                    no2_dev: 0,
                    temp_dev: 0,
                    hum_dev: 0,
                }),
            ),
            SensorKind::Traffic => {
                let road = uniform(p, ROADS.len() as i64) as usize;
                let major = road < MAJOR_ROADS;
                let peak = if major {
                    range(p, 25, 50)
                } else {
                    range(p, 8, 22)
                };
                let free_speed = if major {
                    range(p, 700, 1000)
                } else {
                    range(p, 400, 650)
                };
                (
                    format!(
                        "traffic,detector=td-{id:04},district={district},road={} ",
                        ROADS[road]
                    ),
                    Model::Traffic(Traffic {
                        peak,
                        capacity: peak * range(p, 110, 140) / 100,
                        free_speed,
                        cong: 0,
                    }),
                )
            }
            SensorKind::Noise => (
                format!("noise,district={district},site=nm-{id:04} "),
                Model::Noise(Noise {
                    base: range(p, 520, 700),
                    dev: 0,
                    event_left: 0,
                    event_level: 0,
                }),
            ),
            SensorKind::River => {
                let base_mm = range(p, 800, 3500);
                (
                    format!(
                        "river,district={district},gauge=rg-{id:04},river={} ",
                        RIVERS[index % RIVERS.len()]
                    ),
                    Model::River(River {
                        base_mm,
                        bed_mm: base_mm - range(p, 300, 1000),
                        rating: range(p, 20, 400),
                        rain_response: range(p, 50, 150),
                        dev: 0,
                    }),
                )
            }
            SensorKind::Parking => {
                let capacity = range(p, 60, 1200);
                let profile = uniform(p, 3) as usize;
                let start_tod = local_tod(config.start_ns);
                let occupied = (capacity * profile_at(&PARKING_PROFILES[profile], start_tod)
                    / 1000
                    + range(p, -capacity / 20, capacity / 20 + 1))
                .clamp(0, capacity);
                (
                    format!("parking,district={district},lot=pk-{id:04} "),
                    Model::Parking(Parking {
                        capacity,
                        profile,
                        barrier: parking_has_barrier(index),
                        occupied,
                    }),
                )
            }
            SensorKind::Power => {
                let r = uniform(p, 100);
                let (profile, peak) = if r < 55 {
                    (0, range(p, 300, 1500))
                } else if r < 85 {
                    (1, range(p, 1000, 6000))
                } else {
                    (2, range(p, 3000, 12000))
                };
                let energy_kwh = range(p, 5_000, 2_000_000);
                (
                    format!("power,district={district},meter=pm-{id:04} "),
                    Model::Power(Power {
                        profile,
                        peak,
                        interval_s: kind.interval_ns() / NS_PER_SEC,
                        energy_fine: energy_kwh * 100 * 360 + range(p, 0, 360),
                        volt_base: range(p, 2180, 2230),
                        dev: 0,
                        volt_dev: 0,
                    }),
                )
            }
        };
        Sensor {
            prefix: prefix.into_bytes().into_boxed_slice(),
            grid0: config.start_ns + phase,
            interval: kind.interval_ns(),
            precision: kind.precision_ns(),
            k: 0,
            n: points_of(config, kind, phase),
            model,
        }
    }

    /// Draws the jittered timestamp of point `k`.
    fn timestamp(&self, rng: &mut ChaCha8Rng) -> i64 {
        let r = rng.next_u64();
        let width = if r & 0xff < 26 {
            WIDE_JITTER_NS
        } else {
            NARROW_JITTER_NS
        };
        let jitter = ((r >> 8) % (2 * width as u64 + 1)) as i64 - width;
        let ts = self.grid0 + i64::from(self.k) * self.interval + jitter;
        ts - ts.rem_euclid(self.precision)
    }

    /// Writes one complete line; returns the number of field values in it.
    fn write_point(&mut self, rng: &mut ChaCha8Rng, seed: u64, ts: i64, out: &mut Vec<u8>) -> u32 {
        out.extend_from_slice(&self.prefix);
        let t = Time {
            secs: ts.div_euclid(NS_PER_SEC),
            tod: local_tod(ts),
            seed,
        };
        let values = match &mut self.model {
            Model::Air(m) => m.write(rng, &t, out),
            Model::Traffic(m) => m.write(rng, &t, out),
            Model::Noise(m) => m.write(rng, &t, out),
            Model::River(m) => m.write(rng, &t, out),
            Model::Parking(m) => m.write(rng, &t, out),
            Model::Power(m) => m.write(rng, &t, out),
        };
        out.push(b' ');
        push_i64(out, ts);
        out.push(b'\n');
        values
    }
}

/// Time of the reading as seen by the models.
struct Time {
    /// Unix seconds.
    secs: i64,
    /// Local seconds of the day, 0..86400.
    tod: i64,
    seed: u64,
}

fn local_tod(ts: i64) -> i64 {
    (ts.div_euclid(NS_PER_SEC) + UTC_OFFSET_SECS).rem_euclid(86_400)
}

struct Air {
    /// µg/m³.
    pm_base: i64,
    /// pm10 / pm25 in percent.
    pm_ratio: i64,
    /// 0.1 µg/m³.
    no2_base: i64,
    /// 0.1 °C.
    temp_off: i64,
    /// %.
    hum_off: i64,
    /// 0.01 µg/m³.
    pm_dev: i64,
    /// 0.01 µg/m³.
    pm10_dev: i64,
    /// 0.001 µg/m³.
    no2_dev: i64,
    /// 0.01 °C.
    temp_dev: i64,
    /// 0.1 %.
    hum_dev: i64,
}

impl Air {
    fn write(&mut self, rng: &mut ChaCha8Rng, t: &Time, out: &mut Vec<u8>) -> u32 {
        let traffic = profile_at(&TRAFFIC_PROFILE, t.tod);
        let temp_anomaly = value_noise(t.seed, KEY_TEMP, t.secs, 6 * 3600) * 40 / 1000;
        self.temp_dev = revert(self.temp_dev, 32) + gauss(rng, 5);
        let temperature = (80
            + profile_at(&TEMP_PROFILE, t.tod) * 50 / 1000
            + temp_anomaly
            + self.temp_off
            + self.temp_dev / 10)
            .clamp(-300, 450);
        self.hum_dev = revert(self.hum_dev, 32) + gauss(rng, 8);
        let humidity =
            (55 - (temperature - 80) * 15 / 100 + self.hum_off + self.hum_dev / 10).clamp(5, 100);
        let episode = 1000 + value_noise(t.seed, KEY_PM, t.secs, 8 * 3600) * 6 / 10;
        self.pm_dev = revert(self.pm_dev, 64) + gauss(rng, 80);
        let pm25 = (self.pm_base * episode / 1000 * (850 + traffic * 3 / 10) / 1000
            + self.pm_dev / 100)
            .clamp(1, 500);
        self.pm10_dev = revert(self.pm10_dev, 32) + gauss(rng, 60);
        let pm10 = (pm25 * self.pm_ratio / 100 + self.pm10_dev / 100).clamp(pm25, 800);
        self.no2_dev = revert(self.no2_dev, 32) + gauss(rng, 40);
        let no2 =
            (self.no2_base * (450 + traffic * 7 / 10) / 1000 + self.no2_dev / 100).clamp(10, 2000);

        out.extend_from_slice(b"pm25=");
        push_i64(out, pm25);
        out.extend_from_slice(b",pm10=");
        push_i64(out, pm10);
        out.extend_from_slice(b",no2=");
        push_decimal(out, no2, 1);
        out.extend_from_slice(b",temperature=");
        push_decimal(out, temperature, 1);
        out.extend_from_slice(b",humidity=");
        push_i64(out, humidity);
        5
    }
}

struct Traffic {
    /// Vehicles per 30 s at the busiest hour.
    peak: i64,
    /// Vehicles per 30 s at which the road is saturated.
    capacity: i64,
    /// 0.1 km/h.
    free_speed: i64,
    /// Congestion deviation in permille.
    cong: i64,
}

impl Traffic {
    fn write(&mut self, rng: &mut ChaCha8Rng, t: &Time, out: &mut Vec<u8>) -> u32 {
        self.cong = revert(self.cong, 64) + gauss(rng, 25);
        let profile = profile_at(&TRAFFIC_PROFILE, t.tod);
        // Expected vehicles × 1000, with Poisson-like noise.
        let expected = self.peak * profile * (1000 + self.cong).max(200) / 1000;
        let sigma = isqrt(expected * 1000) + 100;
        let count = ((expected + gauss(rng, sigma) + 500).div_euclid(1000)).max(0);
        let load = (count * 1000 / self.capacity).min(1300);
        let occupancy =
            (load * 45 / 1000 + load * load * 30 / 1_000_000 + gauss(rng, 2)).clamp(0, 100);
        // With no vehicle in the interval the detector reports the free-flow speed.
        let factor = (1000 - load * load * 550 / 1_000_000).max(150);
        let speed = (self.free_speed * factor / 1000 + gauss(rng, 20)).clamp(50, 1400);

        out.extend_from_slice(b"vehicle_count=");
        push_i64(out, count);
        out.extend_from_slice(b"i,avg_speed=");
        push_decimal(out, speed, 1);
        out.extend_from_slice(b",occupancy=");
        push_decimal(out, occupancy, 2);
        3
    }
}

struct Noise {
    /// Daytime level, 0.1 dB.
    base: i64,
    /// 0.01 dB.
    dev: i64,
    /// Remaining points of the current loud event (siren, construction, ...).
    event_left: u32,
    /// 0.1 dB.
    event_level: i64,
}

impl Noise {
    fn write(&mut self, rng: &mut ChaCha8Rng, t: &Time, out: &mut Vec<u8>) -> u32 {
        self.dev = revert(self.dev, 16) + gauss(rng, 40);
        // 0.5 % of the points start an event.
        if self.event_left == 0 && rng.next_u32() < 21_474_837 {
            self.event_left = 1 + uniform(rng, 6) as u32;
            self.event_level = range(rng, 50, 250);
        }
        let event = if self.event_left > 0 {
            self.event_left -= 1;
            self.event_level
        } else {
            0
        };
        let activity = profile_at(&ACTIVITY_PROFILE, t.tod);
        let laeq =
            (self.base - (1000 - activity) * 150 / 1000 + self.dev / 10 + event).clamp(300, 1200);

        out.extend_from_slice(b"laeq=");
        push_decimal(out, laeq, 1);
        1
    }
}

struct River {
    /// Normal water level, mm.
    base_mm: i64,
    /// Level of zero flow, mm.
    bed_mm: i64,
    /// Rating-curve coefficient: flow = rating · h² (h in m, flow in m³/s).
    rating: i64,
    /// Percent of the city-wide rain signal seen by this gauge.
    rain_response: i64,
    /// 0.01 mm.
    dev: i64,
}

impl River {
    fn write(&mut self, rng: &mut ChaCha8Rng, t: &Time, out: &mut Vec<u8>) -> u32 {
        self.dev = revert(self.dev, 256) + gauss(rng, 150);
        // Rain raises the rivers by up to 0.6 m (times the gauge's response).
        let rain = (value_noise(t.seed, KEY_RAIN, t.secs, 12 * 3600) - 500).max(0) * 600 / 500;
        let level = (self.base_mm
            + profile_at(&TEMP_PROFILE, t.tod) * 15 / 1000
            + rain * self.rain_response / 100
            + self.dev / 100)
            .clamp(0, 15_000);
        let head = (level - self.bed_mm).max(0);
        let flow = self.rating * head * head / 100_000;
        let flow = (flow + gauss(rng, flow / 100 + 1)).max(0);

        out.extend_from_slice(b"level=");
        push_decimal(out, level, 3);
        out.extend_from_slice(b",flow=");
        push_decimal(out, flow, 1);
        2
    }
}

struct Parking {
    capacity: i64,
    /// Index into [`PARKING_PROFILES`].
    profile: usize,
    barrier: bool,
    /// Cars currently parked.
    occupied: i64,
}

impl Parking {
    fn write(&mut self, rng: &mut ChaCha8Rng, t: &Time, out: &mut Vec<u8>) -> u32 {
        let target = self.capacity * profile_at(&PARKING_PROFILES[self.profile], t.tod) / 1000;
        self.occupied =
            (self.occupied + (target - self.occupied) / 6 + gauss(rng, 1 + self.capacity / 100))
                .clamp(0, self.capacity);
        let free = self.capacity - self.occupied;

        out.extend_from_slice(b"free_spaces=");
        push_i64(out, free);
        out.push(b'i');
        if self.barrier {
            out.extend_from_slice(if free * 20 < self.capacity {
                b",occupied=true"
            } else {
                b",occupied=false"
            });
        }
        out.extend_from_slice(b",capacity=");
        push_i64(out, self.capacity);
        out.push(b'i');
        if self.barrier {
            3
        } else {
            2
        }
    }
}

struct Power {
    /// Index into [`POWER_PROFILES`].
    profile: usize,
    /// Peak power, 0.1 kW.
    peak: i64,
    interval_s: i64,
    /// Cumulative energy in 0.1 kW·s (360 of them make 0.01 kWh).
    energy_fine: i64,
    /// 0.1 V.
    volt_base: i64,
    /// Load deviation in 0.1 permille.
    dev: i64,
    /// 0.01 V.
    volt_dev: i64,
}

impl Power {
    fn write(&mut self, rng: &mut ChaCha8Rng, t: &Time, out: &mut Vec<u8>) -> u32 {
        self.dev = revert(self.dev, 64) + gauss(rng, 150);
        let profile = profile_at(&POWER_PROFILES[self.profile], t.tod);
        let power = (self.peak * profile / 1000 * (10_000 + self.dev).max(1000) / 10_000
            + gauss(rng, self.peak / 200 + 1))
        .clamp(0, self.peak * 3 / 2);
        self.energy_fine += power * self.interval_s;
        let energy = self.energy_fine / 360;
        self.volt_dev = revert(self.volt_dev, 32) + gauss(rng, 30);
        let voltage =
            (self.volt_base - power * 40 / self.peak + self.volt_dev / 10).clamp(1980, 2420);

        out.extend_from_slice(b"energy_kwh=");
        push_decimal(out, energy, 2);
        out.extend_from_slice(b",power_kw=");
        push_decimal(out, power, 1);
        out.extend_from_slice(b",voltage=");
        push_decimal(out, voltage, 1);
        3
    }
}

// ---------------------------------------------------------------------------------------
// Integer helpers

/// Uniform integer in `0..n` (`n > 0`; bias below 2^-64·n).
fn uniform(rng: &mut ChaCha8Rng, n: i64) -> i64 {
    debug_assert!(n > 0);
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as i64
}

/// Uniform integer in `lo..hi`.
fn range(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    lo + uniform(rng, hi - lo)
}

/// Approximately normal integer with mean 0 and standard deviation `sigma` (sum of four
/// 16-bit uniforms, so bounded by ±3.46·sigma).
fn gauss(rng: &mut ChaCha8Rng, sigma: i64) -> i64 {
    let r = rng.next_u64();
    let sum = (r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48);
    (sum as i64 - 131_070) * sigma / 37_837
}

/// One step of mean reversion toward 0 with time constant `steps`.
fn revert(dev: i64, steps: i64) -> i64 {
    dev - dev / steps
}

fn isqrt(x: i64) -> i64 {
    // IEEE square root is correctly rounded, hence identical on every platform.
    (x.max(0) as f64).sqrt() as i64
}

/// Daily profile value (permille) at local second-of-day `tod`, interpolated linearly.
fn profile_at(table: &[i16; 24], tod: i64) -> i64 {
    let hour = (tod / 3600) as usize % 24;
    let frac = tod % 3600;
    let a = i64::from(table[hour]);
    let b = i64::from(table[(hour + 1) % 24]);
    a + (b - a) * frac / 3600
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Smooth city-wide random signal in -1000..=1000: random knots every `period` seconds,
/// linearly interpolated.
fn value_noise(seed: u64, key: u64, secs: i64, period: i64) -> i64 {
    let knot = secs.div_euclid(period);
    let frac = secs.rem_euclid(period);
    let at = |k: i64| {
        let h = splitmix64(seed ^ splitmix64(key) ^ (k as u64).wrapping_mul(0x2545_F491_4F6C_DD1D));
        (h % 2001) as i64 - 1000
    };
    let a = at(knot);
    let b = at(knot + 1);
    a + (b - a) * frac / period
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_i64(out: &mut Vec<u8>, v: i64) {
    if v < 0 {
        out.push(b'-');
    }
    push_u64(out, v.unsigned_abs());
}

/// Writes `steps · 10^-decimals` as the shortest decimal (trailing zeros and a bare
/// point dropped, never `-0`), e.g. `(214, 1)` → `21.4`, `(210, 1)` → `21`,
/// `(-5, 2)` → `-0.05`.
fn push_decimal(out: &mut Vec<u8>, steps: i64, decimals: u32) {
    if steps < 0 {
        out.push(b'-');
    }
    let abs = steps.unsigned_abs();
    let scale = 10u64.pow(decimals);
    push_u64(out, abs / scale);
    let mut frac = abs % scale;
    if frac == 0 {
        return;
    }
    let mut digits = decimals as usize;
    while frac / 10 * 10 == frac {
        frac /= 10;
        digits -= 1;
    }
    out.push(b'.');
    let mut buf = [b'0'; 20];
    let mut i = digits;
    while frac > 0 {
        i -= 1;
        buf[i] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    out.extend_from_slice(&buf[..digits]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::sync::OnceLock;

    #[derive(Clone, Copy, Debug)]
    enum Ty {
        /// Float with at most this many decimals.
        Float(usize),
        Int,
        Bool,
    }

    struct Field {
        name: &'static str,
        ty: Ty,
        min: f64,
        max: f64,
    }

    const fn f(name: &'static str, ty: Ty, min: f64, max: f64) -> Field {
        Field { name, ty, min, max }
    }

    /// Tag keys (sorted) and fields (in order) of each measurement.
    fn schema(measurement: &str) -> (&'static [&'static str], &'static [Field]) {
        const AIR: [Field; 5] = [
            f("pm25", Ty::Float(0), 1.0, 500.0),
            f("pm10", Ty::Float(0), 1.0, 800.0),
            f("no2", Ty::Float(1), 1.0, 200.0),
            f("temperature", Ty::Float(1), -30.0, 45.0),
            f("humidity", Ty::Float(0), 5.0, 100.0),
        ];
        const TRAFFIC: [Field; 3] = [
            f("vehicle_count", Ty::Int, 0.0, 200.0),
            f("avg_speed", Ty::Float(1), 5.0, 140.0),
            f("occupancy", Ty::Float(2), 0.0, 1.0),
        ];
        const NOISE: [Field; 1] = [f("laeq", Ty::Float(1), 30.0, 120.0)];
        const RIVER: [Field; 2] = [
            f("level", Ty::Float(3), 0.0, 15.0),
            f("flow", Ty::Float(1), 0.0, 10_000.0),
        ];
        const PARKING: [Field; 3] = [
            f("free_spaces", Ty::Int, 0.0, 1200.0),
            f("occupied", Ty::Bool, 0.0, 1.0),
            f("capacity", Ty::Int, 60.0, 1200.0),
        ];
        const POWER: [Field; 3] = [
            f("energy_kwh", Ty::Float(2), 0.0, 1e8),
            f("power_kw", Ty::Float(1), 0.0, 1800.0),
            f("voltage", Ty::Float(1), 198.0, 242.0),
        ];
        match measurement {
            "air_quality" => (&["district", "station"], &AIR),
            "traffic" => (&["detector", "district", "road"], &TRAFFIC),
            "noise" => (&["district", "site"], &NOISE),
            "river" => (&["district", "gauge", "river"], &RIVER),
            "parking" => (&["district", "lot"], &PARKING),
            "power" => (&["district", "meter"], &POWER),
            other => panic!("unknown measurement {other:?}"),
        }
    }

    #[derive(Debug)]
    struct Line<'a> {
        /// Measurement and tags: the series key.
        series: &'a str,
        measurement: &'a str,
        fields: Vec<(&'a str, &'a str)>,
        ts: i64,
    }

    impl Line<'_> {
        fn value(&self, name: &str) -> f64 {
            let (_, text) = self.fields.iter().find(|(k, _)| *k == name).unwrap();
            parse_value(text)
        }
    }

    fn parse_value(text: &str) -> f64 {
        match text {
            "true" => 1.0,
            "false" => 0.0,
            _ => text.trim_end_matches('i').parse().unwrap(),
        }
    }

    fn is_name(s: &str) -> bool {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    }

    /// Checks the line protocol shape of one line against the schema and parses it.
    fn parse(line: &str) -> Line<'_> {
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts.len(), 3, "three space-separated sections: {line}");
        let (series, field_set, ts) = (parts[0], parts[1], parts[2]);
        assert!(
            !ts.is_empty() && ts.bytes().all(|b| b.is_ascii_digit()),
            "integer timestamp: {line}"
        );
        let mut tags = series.split(',');
        let measurement = tags.next().unwrap();
        let (tag_keys, schema_fields) = schema(measurement);
        let keys: Vec<&str> = tags
            .map(|tag| {
                let (k, v) = tag.split_once('=').expect("tag key=value");
                assert!(is_name(k) && is_name(v), "plain tag {tag:?} in {line}");
                k
            })
            .collect();
        assert_eq!(keys, tag_keys, "tag keys of {line}");
        let fields: Vec<(&str, &str)> = field_set
            .split(',')
            .map(|kv| kv.split_once('=').expect("field key=value"))
            .collect();
        let mut expected = schema_fields.iter().filter(|f| {
            // `occupied` is optional.
            f.name != "occupied" || fields.iter().any(|(k, _)| *k == "occupied")
        });
        for (k, v) in &fields {
            let field = expected
                .next()
                .unwrap_or_else(|| panic!("extra field in {line}"));
            assert_eq!(*k, field.name, "field order of {line}");
            match field.ty {
                Ty::Int => {
                    let digits = v.strip_suffix('i').expect("integer suffix");
                    assert!(digits.parse::<i64>().is_ok(), "integer {v} in {line}");
                }
                Ty::Bool => assert!(*v == "true" || *v == "false", "bool {v} in {line}"),
                Ty::Float(_) => assert!(
                    v.bytes()
                        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
                        && v.parse::<f64>().is_ok(),
                    "float {v} in {line}"
                ),
            }
        }
        assert!(expected.next().is_none(), "missing field in {line}");
        Line {
            series,
            measurement,
            fields,
            ts: ts.parse().unwrap(),
        }
    }

    fn split_lines(body: &[u8]) -> Vec<&str> {
        let text = std::str::from_utf8(body).unwrap();
        assert!(text.is_empty() || text.ends_with('\n'));
        text.lines().collect()
    }

    fn small() -> &'static [u8] {
        static BODY: OnceLock<Vec<u8>> = OnceLock::new();
        BODY.get_or_init(|| generate_all(&CityConfig::scale(Scale::Small)))
    }

    fn small_lines() -> &'static [Line<'static>] {
        static LINES: OnceLock<Vec<Line<'static>>> = OnceLock::new();
        LINES.get_or_init(|| split_lines(small()).into_iter().map(parse).collect())
    }

    /// Points of each series in timestamp order.
    fn by_series<'a>(lines: &'a [Line<'a>]) -> BTreeMap<&'a str, Vec<&'a Line<'a>>> {
        let mut map: BTreeMap<&str, Vec<&Line>> = BTreeMap::new();
        for line in lines {
            map.entry(line.series).or_default().push(line);
        }
        for points in map.values_mut() {
            points.sort_by_key(|l| l.ts);
        }
        map
    }

    fn fnv1a(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    #[test]
    fn decimals_print_shortest() {
        let cases: [(i64, u32, &str); 12] = [
            (214, 1, "21.4"),
            (210, 1, "21"),
            (0, 1, "0"),
            (-5, 1, "-0.5"),
            (-5, 2, "-0.05"),
            (-300, 1, "-30"),
            (7, 3, "0.007"),
            (1010, 3, "1.01"),
            (123_456_789, 2, "1234567.89"),
            (35, 0, "35"),
            (100, 2, "1"),
            (i64::MIN, 0, "-9223372036854775808"),
        ];
        for (steps, decimals, text) in cases {
            let mut out = Vec::new();
            push_decimal(&mut out, steps, decimals);
            assert_eq!(
                std::str::from_utf8(&out).unwrap(),
                text,
                "{steps} / 10^{decimals}"
            );
        }
        let mut out = Vec::new();
        push_i64(&mut out, -42);
        push_u64(&mut out, u64::MAX);
        assert_eq!(out, b"-4218446744073709551615");
    }

    #[test]
    fn same_config_gives_same_bytes_in_any_batching() {
        let config = CityConfig::scale(Scale::Tiny);
        let all = generate_all(&config);
        assert_eq!(all, generate_all(&config));
        for batch in [1, 7, 1000] {
            let mut gen = CityGen::new(&config);
            let mut out = Vec::new();
            loop {
                let before = out.len();
                let n = gen.next_batch(&mut out, batch);
                assert!(n <= batch);
                assert_eq!(out[before..].iter().filter(|&&b| b == b'\n').count(), n);
                if n == 0 {
                    break;
                }
            }
            assert_eq!(out, all, "batch size {batch}");
            assert!(gen.is_exhausted());
            assert_eq!(gen.next_batch(&mut out, 10), 0);
        }
        // At scale too, cut into arbitrary batches.
        let mut gen = CityGen::new(&CityConfig::scale(Scale::Small));
        let mut out = Vec::new();
        while gen.next_batch(&mut out, 4093) > 0 {}
        assert!(out == small(), "Small output differs between two runs");
    }

    /// Pins the exact bytes of the Tiny data set: the output must be identical on every
    /// platform. Update the constant only for a deliberate change of the generator.
    #[test]
    fn tiny_output_is_pinned() {
        let body = generate_all(&CityConfig::scale(Scale::Tiny));
        assert_eq!(body.len(), TINY_BYTES);
        assert_eq!(fnv1a(&body), TINY_FNV1A, "got {:#018x}", fnv1a(&body));
    }

    const TINY_BYTES: usize = 112_995;
    const TINY_FNV1A: u64 = 0xd293_a99d_ff0b_24c9;

    #[test]
    fn different_seed_gives_different_data() {
        let config = CityConfig::scale(Scale::Tiny);
        let a = generate_all(&config);
        let b = generate_all(&config.with_seed(config.seed + 1));
        assert_ne!(a, b);
        let (la, lb) = (split_lines(&a), split_lines(&b));
        assert_eq!(la.len(), lb.len());
        let same = la.iter().zip(&lb).filter(|(x, y)| x == y).count();
        assert!(
            same * 100 < la.len(),
            "{same} identical lines of {}",
            la.len()
        );
    }

    #[test]
    fn every_line_is_line_protocol() {
        for config in [
            CityConfig::scale(Scale::Tiny),
            CityConfig::scale(Scale::Tiny).with_seed(99),
        ] {
            let body = generate_all(&config);
            let lines: Vec<Line> = split_lines(&body).into_iter().map(parse).collect();
            assert_eq!(lines.len() as u64, config.expected_lines());
            for line in &lines {
                assert!(
                    (config.start_ns..config.end_ns()).contains(&line.ts),
                    "{line:?}"
                );
            }
            let measurements: std::collections::BTreeSet<&str> =
                lines.iter().map(|l| l.measurement).collect();
            assert_eq!(measurements.len(), 6);
        }
        let config = CityConfig::scale(Scale::Small);
        assert_eq!(small_lines().len() as u64, config.expected_lines());
        for line in small_lines() {
            assert!(
                (config.start_ns..config.end_ns()).contains(&line.ts),
                "{line:?}"
            );
        }
        assert_eq!(by_series(small_lines()).len(), config.sensors.total());
    }

    #[test]
    fn expected_totals_match_generation() {
        let odd = CityConfig::custom(
            SensorCounts {
                air_quality: 1,
                traffic: 2,
                noise: 3,
                river: 1,
                parking: 3,
                power: 2,
            },
            (17 * 60 + 13) * NS_PER_SEC + 500 * NS_PER_MS,
            DEFAULT_START_NS + 123_456_789,
            7,
        );
        let empty = CityConfig::custom(SensorCounts::default(), 3600 * NS_PER_SEC, 0, 1);
        let instant = CityConfig::custom(CityConfig::scale(Scale::Tiny).sensors, 0, 0, 1);
        for config in [
            CityConfig::scale(Scale::Tiny),
            CityConfig::scale(Scale::Small),
            odd,
            empty,
            instant,
        ] {
            let mut gen = CityGen::new(&config);
            let mut out = Vec::new();
            while gen.next_batch(&mut out, 10_000) > 0 {}
            assert_eq!(gen.lines_emitted(), config.expected_lines(), "{config:?}");
            assert_eq!(gen.values_emitted(), config.expected_values(), "{config:?}");
            assert_eq!(split_lines(&out).len() as u64, config.expected_lines());
            for line in split_lines(&out) {
                let ts = parse(line).ts;
                assert!((config.start_ns..config.end_ns()).contains(&ts), "{line}");
            }
        }
        assert_eq!(CityConfig::scale(Scale::Tiny).expected_lines(), 1220);
        assert_eq!(CityConfig::scale(Scale::Tiny).expected_values(), 2700);
        assert_eq!(CityConfig::scale(Scale::Small).expected_lines(), 455_760);
        assert_eq!(CityConfig::scale(Scale::Small).expected_values(), 1_010_880);
        assert_eq!(empty.expected_lines(), 0);
        assert_eq!(instant.expected_lines(), 0);
    }

    #[test]
    fn day_scale_is_about_20m_values() {
        let config = CityConfig::scale(Scale::Day);
        assert_eq!(config.duration_ns, 86_400 * NS_PER_SEC);
        assert_eq!(config.start_ns, DEFAULT_START_NS);
        // Per sensor and day: air 1440 lines × 5, traffic 2880 × 3, noise 8640 × 1,
        // river 1440 × 2, parking 2880 × 3 (barrier) or × 2, power 5760 × 3.
        let s = config.sensors;
        let by_hand = s.air_quality as u64 * 1440 * 5
            + s.traffic as u64 * 2880 * 3
            + s.noise as u64 * 8640
            + s.river as u64 * 1440 * 2
            + (s.parking as u64).div_ceil(2) * 2880 * 3
            + (s.parking as u64 / 2) * 2880 * 2
            + s.power as u64 * 5760 * 3;
        assert_eq!(config.expected_values(), by_hand);
        assert_eq!(by_hand, 19_975_680);
        assert_eq!(config.expected_lines(), 9_043_200);
        // Building the generator is cheap; it must not generate anything up front.
        let gen = CityGen::new(&config);
        assert_eq!((gen.lines_emitted(), gen.values_emitted()), (0, 0));
        assert_eq!(gen.sensors.len(), s.total());
    }

    #[test]
    fn about_one_percent_of_points_are_late() {
        let config = CityConfig::scale(Scale::Small);
        let lines = small_lines();
        // Per series: points older than the newest point already seen in that series.
        let mut newest: BTreeMap<&str, i64> = BTreeMap::new();
        let mut late_per_series: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
        // Stream-wide: points older than the newest point seen so far.
        let mut stream_newest = i64::MIN;
        let mut stream_late = 0;
        for line in lines {
            let seen = newest.entry(line.series).or_insert(i64::MIN);
            let entry = late_per_series.entry(line.series).or_default();
            entry.1 += 1;
            if line.ts < *seen {
                entry.0 += 1;
            }
            *seen = (*seen).max(line.ts);
            if line.ts < stream_newest {
                stream_late += 1;
                // Delayed by 90..600 s, less the jitter; lines still held back when the
                // run ends are flushed at the end, earlier than planned.
                let lag = stream_newest - line.ts;
                let flushed = line.ts > config.end_ns() - LATE_MAX_NS;
                assert!(lag <= LATE_MAX_NS + NS_PER_SEC, "late by {lag} ns");
                assert!(
                    flushed || lag >= LATE_MIN_NS - NS_PER_SEC,
                    "late by {lag} ns"
                );
            }
            stream_newest = stream_newest.max(line.ts);
        }
        let late: usize = late_per_series.values().map(|(l, _)| l).sum();
        let fraction = late as f64 / lines.len() as f64;
        assert!(
            (0.008..0.012).contains(&fraction),
            "late fraction {fraction}"
        );
        // A series' late point is out of order in the stream too; the converse fails only
        // when two consecutive points of one series are both late (rare).
        assert!(
            late <= stream_late && stream_late - late <= stream_late / 100,
            "{late} late in their series, {stream_late} out of order in the stream"
        );
        for (series, (late, total)) in &late_per_series {
            if *total >= 2000 {
                let f = *late as f64 / *total as f64;
                assert!(
                    (0.002..0.03).contains(&f),
                    "{series}: {late} of {total} late"
                );
            }
        }
    }

    #[test]
    fn values_are_within_plausible_ranges() {
        for line in small_lines() {
            let (_, fields) = schema(line.measurement);
            for field in fields.iter() {
                if let Some((_, text)) = line.fields.iter().find(|(k, _)| *k == field.name) {
                    let v = parse_value(text);
                    assert!(
                        (field.min..=field.max).contains(&v),
                        "{}={text} out of range in {line:?}",
                        field.name
                    );
                }
            }
            if line.measurement == "parking" {
                assert!(line.value("free_spaces") <= line.value("capacity"));
            }
        }
    }

    #[test]
    fn series_invariants_hold() {
        for (series, points) in by_series(small_lines()) {
            let measurement = points[0].measurement;
            for pair in points.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                match measurement {
                    "power" => assert!(
                        b.value("energy_kwh") >= a.value("energy_kwh"),
                        "energy_kwh decreases in {series} at {}",
                        b.ts
                    ),
                    "parking" => assert_eq!(a.value("capacity"), b.value("capacity")),
                    _ => {}
                }
            }
            if measurement == "parking" {
                let lot: usize = series.rsplit("pk-").next().unwrap().parse().unwrap();
                let has_flag = points[0].fields.iter().any(|(k, _)| *k == "occupied");
                assert_eq!(has_flag, parking_has_barrier(lot - 1), "{series}");
                assert!(points
                    .iter()
                    .all(|p| p.fields.iter().any(|(k, _)| *k == "occupied") == has_flag));
            }
        }
    }

    #[test]
    fn floats_print_with_at_most_the_stated_decimals() {
        let mut max_seen: BTreeMap<&str, usize> = BTreeMap::new();
        for line in small_lines() {
            let (_, fields) = schema(line.measurement);
            for (name, text) in &line.fields {
                let field = fields.iter().find(|f| f.name == *name).unwrap();
                if let Ty::Float(decimals) = field.ty {
                    let seen = text.split_once('.').map_or(0, |(_, frac)| frac.len());
                    assert!(
                        seen <= decimals,
                        "{name}={text}: more than {decimals} decimals"
                    );
                    assert!(!text.ends_with('0') || !text.contains('.'), "{name}={text}");
                    // The text is exactly how Rust prints the parsed f64.
                    let v: f64 = text.parse().unwrap();
                    assert_eq!(&format!("{v}"), text);
                    let m = max_seen.entry(name).or_default();
                    *m = (*m).max(seen);
                }
            }
        }
        // Every resolution is actually used.
        assert_eq!(max_seen["no2"], 1);
        assert_eq!(max_seen["level"], 3);
        assert_eq!(max_seen["energy_kwh"], 2);
        assert_eq!(max_seen["occupancy"], 2);
        assert_eq!(max_seen["pm25"], 0);
    }

    #[test]
    fn timestamps_are_jittered_around_a_per_sensor_grid() {
        let config = CityConfig::scale(Scale::Small);
        let mut whole_seconds = 0;
        let mut exact_interval = 0;
        let mut deltas = 0;
        for (series, points) in by_series(small_lines()) {
            let kind = SensorKind::ALL
                .into_iter()
                .find(|k| k.measurement() == points[0].measurement)
                .unwrap();
            let interval = kind.interval_ns();
            assert_eq!(
                points.len() as i64,
                config.duration_ns / interval,
                "{series}"
            );
            for p in &points {
                assert_eq!(p.ts % kind.precision_ns(), 0);
                whole_seconds += usize::from(p.ts % NS_PER_SEC == 0);
            }
            for pair in points.windows(2) {
                let delta = pair[1].ts - pair[0].ts;
                assert!(
                    (delta - interval).abs() <= 2 * WIDE_JITTER_NS,
                    "{series}: {delta} ns between points"
                );
                exact_interval += usize::from(delta == interval);
                deltas += 1;
            }
        }
        assert!(whole_seconds * 1000 < small_lines().len());
        assert!(
            exact_interval * 2 < deltas,
            "{exact_interval} of {deltas} exact"
        );
    }

    #[test]
    fn daily_cycles_follow_local_time() {
        let sensors = SensorCounts {
            air_quality: 4,
            traffic: 8,
            noise: 8,
            river: 1,
            parking: 2,
            power: 8,
        };
        let config = CityConfig::custom(sensors, 86_400 * NS_PER_SEC, DEFAULT_START_NS, 3);
        let body = generate_all(&config);
        let lines: Vec<Line> = split_lines(&body).into_iter().map(parse).collect();
        // Mean of a field over one local hour (UTC+8).
        let mean = |measurement: &str, field: &str, hour: i64| {
            let (sum, n) = lines
                .iter()
                .filter(|l| l.measurement == measurement && local_tod(l.ts) / 3600 == hour)
                .fold((0.0, 0.0), |(s, n), l| (s + l.value(field), n + 1.0));
            sum / n
        };
        assert!(mean("traffic", "vehicle_count", 8) > 3.0 * mean("traffic", "vehicle_count", 3));
        assert!(mean("traffic", "avg_speed", 3) > mean("traffic", "avg_speed", 18));
        assert!(mean("noise", "laeq", 14) > mean("noise", "laeq", 3) + 5.0);
        assert!(mean("air_quality", "temperature", 15) > mean("air_quality", "temperature", 4));
        assert!(mean("power", "power_kw", 11) > mean("power", "power_kw", 3));
    }
}
