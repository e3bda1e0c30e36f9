//! One module per `mapfold` subcommand.

pub mod demo;
pub mod emr;
pub mod gen_keys;
pub mod gen_points;
pub mod gen_requests;
pub mod generate;
pub mod plot;
pub mod run;
pub mod show;
pub mod upload;
