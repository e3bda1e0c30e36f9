//! One module per `mapfold` subcommand.

pub mod demo;
pub mod generate;
pub mod plot;
pub mod run;
