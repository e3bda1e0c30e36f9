//! One module per `mapfold` subcommand.

pub mod generate;
