//! One module per `mapfold` subcommand.

pub mod demo;
pub mod generate;
pub mod run;
