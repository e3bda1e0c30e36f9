//! `mapfold plot`: a picture of a job's output directory.

use std::path::PathBuf;

use crate::plot::{self, ColorScale, Kind, Options, SortBy, Stat};

/// Plot a job's output (every part-* file, and its manifest) as PNG or SVG.
///
/// Without --kind: a histogram for one group with --hist, a series for
/// numeric keys (like year), bars for other keys.
///
/// Example:
///   mapfold plot out/by-year -o by-year.png
#[derive(clap::Args, Debug, Clone)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// A job's output directory.
    pub output_dir: PathBuf,
    /// What to draw (default: the natural kind for this output).
    #[arg(long, value_enum)]
    pub kind: Option<Kind>,
    /// File to write, .png or .svg (default: OUTPUT_DIR/<kind>.png).
    #[arg(short = 'o', long = "out")]
    pub out: Option<PathBuf>,
    /// Title (default: what is drawn, of which column, per which key).
    #[arg(long)]
    pub title: Option<String>,
    /// Width in pixels.
    #[arg(long, default_value_t = 1000)]
    pub width: u32,
    /// Height in pixels.
    #[arg(long, default_value_t = 600)]
    pub height: u32,
    /// Logarithmic count axis (hist).
    #[arg(long)]
    pub log_y: bool,
    /// Overlay a fitted density (hist): `normal`.
    #[arg(long, value_name = "normal", value_parser = ["normal"])]
    pub fit: Option<String>,
    /// The statistic drawn (series, bars); by default the median with its
    /// quantile bands when the job ran with --quantiles, else the mean.
    #[arg(long, value_enum)]
    pub stat: Option<Stat>,
    /// Bar order (bars).
    #[arg(long, value_enum, default_value = "key")]
    pub sort: SortBy,
    /// Bars drawn before the rest become one "other" bar.
    #[arg(long, default_value_t = 30)]
    pub top: usize,
    /// Also draw each key's min..max (series of the mean).
    #[arg(long)]
    pub range: bool,
    /// How counts map to colour (heatmap).
    #[arg(long, value_enum, default_value = "log")]
    pub color_scale: ColorScale,
    /// The value column to draw, when the job had several --value columns
    /// (default: the first).
    #[arg(long, value_name = "COL")]
    pub column: Option<String>,
}

impl Args {
    pub fn options(&self) -> Options {
        Options {
            kind: self.kind,
            title: self.title.clone(),
            width: self.width.clamp(200, 8000),
            height: self.height.clamp(150, 8000),
            log_y: self.log_y,
            fit_normal: self.fit.is_some(),
            stat: self.stat,
            sort: self.sort,
            top: self.top.max(1),
            range: self.range,
            color_scale: self.color_scale,
            column: self.column.clone(),
        }
    }
}

pub fn run(a: &Args) -> anyhow::Result<()> {
    let o = a.options();
    let out = match &a.out {
        Some(p) => p.clone(),
        None => {
            let r = crate::answer::Reduced::load(&a.output_dir)?.column(o.column.as_deref())?;
            let kind = o.kind.unwrap_or_else(|| plot::natural_kind(&r));
            a.output_dir.join(format!("{kind:?}.png").to_lowercase())
        }
    };
    let kind = plot::render(&a.output_dir, &out, &o)?;
    eprintln!("mapfold plot: wrote {} ({kind:?})", out.display());
    Ok(())
}
