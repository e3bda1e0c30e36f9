//! End-to-end tests: the real binaries over real pipes and files.

mod arrays;
mod bad_input;
mod columns;
mod compressed;
mod corr;
mod csv;
mod defaults;
mod derived;
mod distinct;
mod emr;
mod fuzz;
mod generate;
mod hadoop;
mod hist2d;
mod oracle;
mod pipe;
mod plot;
mod public;
mod quantiles;
mod real;
mod runner;
mod safety;
mod sequence;
mod show;
mod util;
