//! `ganzhi`: the one binary. Parses flags and calls into the crates; no logic of its own.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use ganzhi::citygen::{CityConfig, CityGen, Scale};
use ganzhi_engine::{Db, Fsync, Options, Precision, TagPredicate, TimeRange};

#[derive(Parser)]
#[command(
    name = "ganzhi",
    version,
    about = "Ganzhi: a time-series database for city sensor networks"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Embedded demo: writes a simulated city's sensor data into the engine, reads it back, and
    /// prints what it measured. (The HTTP server, `ganzhi serve`, is not built yet.)
    Demo {
        /// Data directory (created if missing).
        #[arg(long, env = "GANZHI_DATA_DIR", default_value = "./ganzhi-data")]
        data_dir: PathBuf,
        /// How much data to generate.
        #[arg(long, value_enum, default_value_t = ScaleArg::Small)]
        scale: ScaleArg,
        /// When the WAL is fsynced.
        #[arg(long, value_enum, default_value_t = FsyncArg::Always)]
        fsync: FsyncArg,
    },
    /// Prints the simulated city's sensor data as line protocol (nanosecond timestamps), for
    /// loading into ganzhi or into a peer database.
    Gen {
        #[arg(long, value_enum, default_value_t = ScaleArg::Small)]
        scale: ScaleArg,
        /// Random seed (the same seed gives the same bytes).
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ScaleArg {
    Tiny,
    Small,
    Day,
}

impl From<ScaleArg> for Scale {
    fn from(s: ScaleArg) -> Scale {
        match s {
            ScaleArg::Tiny => Scale::Tiny,
            ScaleArg::Small => Scale::Small,
            ScaleArg::Day => Scale::Day,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum FsyncArg {
    Always,
    Never,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Demo {
            data_dir,
            scale,
            fsync,
        } => demo(data_dir, scale.into(), fsync),
        Command::Gen { scale, seed } => {
            let mut config = CityConfig::scale(scale.into());
            if let Some(seed) = seed {
                config.seed = seed;
            }
            let mut gen = CityGen::new(&config);
            let mut out = std::io::stdout().lock();
            let mut buf = Vec::with_capacity(1 << 20);
            while gen.next_batch(&mut buf, 5_000) > 0 {
                out.write_all(&buf)?;
                buf.clear();
            }
            Ok(())
        }
    }
}

fn demo(data_dir: PathBuf, scale: Scale, fsync: FsyncArg) -> Result<()> {
    let fsync = match fsync {
        FsyncArg::Always => Fsync::Always,
        FsyncArg::Never => Fsync::Never,
    };
    let db = Db::open(
        &data_dir,
        Options {
            fsync,
            ..Options::default()
        },
    )
    .with_context(|| format!("opening {}", data_dir.display()))?;
    let report = db.recovery_report();
    println!(
        "opened {}: replayed {} WAL records from {} segments",
        data_dir.display(),
        report.records,
        report.segments
    );
    for t in &report.truncations {
        println!(
            "  truncated {} at {}: {}",
            t.path.display(),
            t.offset,
            t.reason
        );
    }
    db.create_database("city")?;

    let config = CityConfig::scale(scale);
    let mut gen = CityGen::new(&config);
    let mut body = Vec::new();
    let (mut bytes, mut values) = (0usize, 0u64);
    let start = Instant::now();
    while gen.next_batch(&mut body, 5_000) > 0 {
        bytes += body.len();
        values += db
            .write_lines("city", &body, Precision::Nanoseconds)?
            .values;
        body.clear();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "wrote {values} field values ({:.1} MB of line protocol) in {secs:.2} s: {:.2} M values/s",
        bytes as f64 / 1e6,
        values as f64 / secs / 1e6
    );

    let hour = TimeRange::new(config.start_ns, config.start_ns + 3_600_000_000_000 - 1);
    let started = Instant::now();
    let series = db.scan("city", "air_quality", &TagPredicate::All, &["pm25"], hour)?;
    let points: usize = series.iter().map(|s| s.rows.len()).sum();
    println!(
        "scanned pm25 of {} air-quality stations over the first hour: {points} points in {:.1} ms",
        series.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    if let Some(s) = series.first() {
        let first = &s.rows[0];
        println!("  {} at t={}: {:?}", s.key, first.time, first.values[0]);
    }
    Ok(())
}
