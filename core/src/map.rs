//! The map task: lines in, one partial per key out (in-mapper combining).
//!
//! Each line is classified into exactly one counter (see
//! [`crate::counters`]); used and non-finite values update the partials of
//! their group, held in memory (see [`crate::held`]) and written at the
//! end, or earlier when the table is full (see [`crate::sizing`]) or holds
//! `max_bytes`, so memory stays bounded whatever the number of keys.

use std::io::Write;

use crate::agg::measure::Fields;
use crate::agg::{Aggregates, Line, Row, Text};
use crate::binary::Dtype;
use crate::counters::Counters;
use crate::error::{Error, snippet};
use crate::group::Group;
use crate::header::{Decision, HeaderMode, Sniff};
use crate::held::{Held, HeldJob};
use crate::job::{Job, Plan};
use crate::key;
use crate::keys::Keys;
use crate::lines::{Delims, Quotes, Window};
use crate::record::{Splitter, parse_number};
use crate::sizing::{Full, Sizing};
use crate::spec::{Na, Test};
use crate::wire;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// A line's value: a number, missing, or (no `--value`) just a row.
enum Value {
    Num(f64),
    Missing,
    Row,
}

/// A first record held until the records after it tell what it is.
#[derive(Debug)]
struct Pending {
    sniff: Sniff,
    line: Vec<u8>,
    line_no: u64,
}

/// What a map task did, for its caller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapStats {
    pub counters: Counters,
    /// Times the group limit forced an early flush.
    pub early_flushes: u64,
    /// Records written (one per key per flush, plus the counters record).
    pub records_out: u64,
}

/// A map task writing wire records to `out`.
#[derive(Debug)]
pub struct Mapper<W: Write> {
    spec: Job,
    plan: Option<Plan>,
    schema: Option<Vec<Vec<u8>>>,
    /// The next non-blank record is the first of its file: the one that
    /// may be a header (see [`crate::header`]).
    at_start: bool,
    /// The first record, held until the records after it tell whether it
    /// is a header (jobs that name no column and read no value).
    pending: Option<Box<Pending>>,
    /// `--header every`: the header, which later records may repeat.
    repeat_header: Option<Vec<u8>>,
    /// Some test above applies to the next line: the one branch the hot
    /// path takes for all of them.
    slow: bool,
    splitter: Splitter,
    /// The key of each group.
    keys: Keys,
    groups: Vec<Held>,
    /// Lines that reached each group since the last eviction.
    hits: Vec<u32>,
    /// How many groups may be held.
    sizing: Sizing,
    /// Estimated bytes the groups hold, against `spec.max_bytes`.
    held_bytes: usize,
    /// Estimated bytes of a group that holds its values, besides its key.
    held_cost: usize,
    /// Bytes a group's state adds when made: the box, the state and what
    /// the job's empty state holds on the heap (histogram bins).
    group_cost: usize,
    /// What the job's empty state holds on the heap.
    proto_heap: usize,
    /// The job's states can grow as values come (quantile sketches,
    /// distinct sets, 2-D grids): each line's growth is measured.
    grows: bool,
    /// [`crate::superacc::spilled_bytes`] when last counted.
    spilled: usize,
    /// The job's report, carried by the counters record (see
    /// [`Mapper::set_report`]).
    report: Vec<u8>,
    /// What the groups are made of and written as.
    job: HeldJob,
    /// Groups made since the start, against the lines that reached them.
    groups_made: u64,
    /// Every line is written as its own record, not combined in memory.
    passthrough: bool,
    /// The line needs only the lean path (see [`Mapper::relean`]).
    lean: bool,
    /// The job has no keys: every line is of one group.
    one_group: bool,
    /// The line's key is made before its group is found, in
    /// `derived_key`: derived keys, and a binary array's rows.
    key_made: bool,
    /// The raw key of the line passed through, or of a group being made.
    pass_key: Vec<u8>,
    /// The group of the last line, when it had one (most lines of sorted
    /// or clustered input share their group with the line before), and
    /// its key: a copy, compared faster than the arena's.
    last_idx: usize,
    last_key: Vec<u8>,
    /// Lines of group `last_idx` not yet added to its `hits`: such a line
    /// costs an increment, not a checked update of the table (see
    /// [`Mapper::settle_run`]).
    run: u64,
    keybuf: Vec<u8>,
    /// The line's derived key (raw form, as [`raw_key`] makes), when the
    /// job has derived keys.
    derived_key: Vec<u8>,
    /// The input file's name (its last path part), for `--key file`.
    file_name: Vec<u8>,
    /// The wire key of a passed-through line.
    keyout: Vec<u8>,
    /// The further value columns' values of the current line.
    more: Vec<Option<f64>>,
    line_no: u64,
    first_malformed: Option<(u64, String)>,
    in_split: bool,
    stats: MapStats,
    location: String,
    out: W,
    wbuf: Vec<u8>,
}

impl<W: Write> Mapper<W> {
    /// `location` names the input in messages (e.g. the split's file).
    pub fn new(spec: Job, location: String, out: W) -> Result<Self, Error> {
        let plan = match &spec.schema {
            Some(s) => Some(Plan::bind(&spec, Some(s))?),
            // Without a schema the first non-blank line decides (header or
            // data); flags are still checked now, not at the first line.
            None => {
                if !spec.needs_names() {
                    Plan::bind(&spec, None)?;
                }
                None
            }
        };
        let shapes = spec.shapes();
        let proto = Group::new(&shapes);
        let proto_heap = proto.heap_size();
        // The allocator's own bytes per block, and slack.
        let group_cost = std::mem::size_of::<Group>() + proto_heap + 64;
        let grows = shapes.iter().any(|s| s.grows());
        let held_cost = 2 * std::mem::size_of::<Held>() + 40;
        if group_cost + held_cost > spec.max_bytes {
            return Err(Error::Flag {
                flag: "--max-memory",
                value: format!("{} MiB", spec.max_bytes >> 20),
                why: format!(
                    "one group of this job holds {} bytes (its histogram bins), more than the \
                     bound: raise --max-memory, or ask for fewer bins",
                    group_cost + held_cost
                ),
            });
        }
        let mut mapper = Self {
            schema: spec.schema.clone(),
            plan: None,
            at_start: true,
            pending: None,
            repeat_header: None,
            slow: true,
            splitter: Splitter::new(spec.delimiter),
            keys: Keys::default(),
            groups: Vec::new(),
            hits: Vec::new(),
            sizing: Sizing::new(spec.max_groups),
            held_bytes: 0,
            // The held values (and the slack of the vector holding them),
            // the hit count, and the hash table's entry and the key's bounds.
            held_cost,
            group_cost,
            proto_heap,
            grows,
            spilled: crate::superacc::spilled_bytes(),
            report: Vec::new(),
            job: HeldJob::new(proto, spec.what.values.is_empty()),
            groups_made: 0,
            passthrough: false,
            lean: false,
            one_group: false,
            key_made: false,
            pass_key: Vec::new(),
            last_idx: usize::MAX,
            run: 0,
            last_key: Vec::new(),
            keybuf: Vec::new(),
            derived_key: Vec::new(),
            file_name: std::env::var("mapreduce_map_input_file")
                .or_else(|_| std::env::var("map_input_file"))
                .map(|f| f.rsplit('/').next().unwrap_or_default().as_bytes().to_vec())
                .unwrap_or_default(),
            keyout: Vec::new(),
            more: Vec::new(),
            line_no: 0,
            first_malformed: None,
            in_split: false,
            stats: MapStats::default(),
            location,
            out,
            wbuf: Vec::with_capacity(4096),
            spec,
        };
        if let Some(plan) = plan {
            mapper.set_plan(plan);
        }
        Ok(mapper)
    }

    /// Takes the plan, and whether its lines need only the lean path: one
    /// value column, no filter, no group measures, states of a fixed size,
    /// groups combined in memory.
    fn set_plan(&mut self, plan: Plan) {
        self.lean = !self.grows
            && !self.passthrough
            && plan.values.len() == 1
            && plan.wheres.is_empty()
            && !plan.extras
            && plan.derived.is_none();
        self.key_made = plan.derived.is_some();
        self.one_group = plan.keys.is_empty() && !self.key_made;
        self.plan = Some(plan);
    }

    /// Marks the input as a split of a file that Hadoop (or the local
    /// runner) cut (`mapreduce_map_input_file` is set): a record that spans
    /// lines fails the task unless the job reads whole files.
    pub fn in_split(&mut self) {
        self.in_split = true;
    }

    /// Marks the input as a split that starts past the start of its file
    /// (Hadoop's `mapreduce_map_input_start` > 0): its first line is data,
    /// never a header to take the schema from.
    pub fn starts_mid_file(&mut self) {
        self.at_start = false;
    }

    /// Counts a binary file's header (a `.npy` header), which is no row.
    pub fn count_header(&mut self) {
        self.stats.counters.header += 1;
    }

    /// Counts a line over [`crate::lines::MAX_LINE`] bytes, which the
    /// reader skipped: malformed.
    pub fn too_long(&mut self, len: u64) {
        self.line_no += 1;
        let why = format!(
            "a line of {len} bytes, over the {} MiB limit of a line (is the file CSV/TSV text \
             with line breaks?)",
            crate::lines::MAX_LINE >> 20
        );
        note_malformed(
            &mut self.stats,
            &mut self.first_malformed,
            self.line_no,
            b"",
            why,
        );
    }

    /// Classifies and folds in one line (without its `\n`).
    pub fn line(&mut self, raw: &[u8]) -> Result<(), Error> {
        self.line_with(raw, None)
    }

    /// [`Mapper::line`] with the line's delimiter bits when already known
    /// (see [`crate::lines::for_each_record`]), which saves splitting it.
    pub fn line_with(&mut self, raw: &[u8], delims: Option<Delims>) -> Result<(), Error> {
        Window::one(raw, delims, |w| self.lines(w))
    }

    /// Folds in each line of `window`: the one place the line's steps are
    /// compiled, inlined into the loop.
    #[inline(never)]
    fn lines(&mut self, window: Window<'_>) -> Result<(), Error> {
        for (raw, delims) in window {
            self.fold_line(raw, delims)?;
        }
        Ok(())
    }

    /// [`Mapper::line_with`]'s steps.
    #[inline(always)]
    fn fold_line(&mut self, raw: &[u8], mut delims: Option<Delims>) -> Result<(), Error> {
        self.line_no += 1;
        if raw.is_empty() {
            self.stats.counters.blank += 1;
            return Ok(());
        }
        let mut l = raw;
        if self.slow {
            let Some(skip) = self.slow_line(raw)? else {
                return Ok(());
            };
            l = &raw[skip..];
            delims = delims.map(|d| Delims {
                bits: d.bits >> skip,
                ..d
            });
        }
        let Some(plan) = &self.plan else {
            return Ok(());
        };
        let n = match delims {
            Some(Delims {
                bits,
                quotes: Quotes::None,
            }) => self.splitter.split_at_bits(l, bits),
            Some(Delims {
                bits,
                quotes: Quotes::Whole,
            }) => self.splitter.split_whole(l, bits),
            _ => {
                let n = self.splitter.split(l);
                if self.in_split
                    && !self.spec.whole_files
                    && self.splitter.was_quoted()
                    && l.iter().any(|&b| b == b'\n' || b == b'\r')
                {
                    // The reader ends records outside quotes only.
                    return Err(Error::SpansLines {
                        line: self.line_no,
                        location: self.location.clone(),
                    });
                }
                n
            }
        };
        let width_ok = match plan.width {
            Some(w) => n == w,
            None => n > plan.max_field,
        };
        if !width_ok {
            let why = match plan.width {
                Some(w) => format!("{n} fields where the schema has {w}"),
                None => format!("{n} fields, column {} needed", plan.max_field + 1),
            };
            return self.malformed(l, n, why);
        }
        if self.lean {
            // One value column, no filter, no group measures and states of
            // a fixed size (most jobs): the general path's tests, each
            // cheap, add up to a good share of such a line's cost.
            let fields = Text(&self.splitter, l);
            let value = match value_of(fields, plan.values[0], &self.spec.na) {
                Ok(value) => value,
                Err(why) => return self.malformed(l, n, why),
            };
            return self.fold_lean(l, value);
        }
        let read = read_line(
            plan,
            Text(&self.splitter, l),
            &self.spec,
            &self.file_name,
            &mut self.more,
            &mut self.derived_key,
        );
        match read {
            Ok(r) => self.fold_read(r, l, None),
            Err(why) => self.malformed(l, n, why),
        }
    }

    /// Folds in a line past its checks (see [`read_line`]): counted as
    /// filtered, or its values and inputs put in its group. `row` is the
    /// binary array's row the line is, if it is one.
    #[inline(always)]
    fn fold_read(&mut self, r: Read, l: &[u8], row: Option<(&[u8], Dtype)>) -> Result<(), Error> {
        if !r.pass {
            self.stats.counters.filtered += 1;
            return Ok(());
        }
        let (extras, several) = self
            .plan
            .as_ref()
            .map_or((false, false), |p| (p.extras, p.values.len() > 1));
        let g = self.group(l)?;
        let before = if self.grows { self.heap_of(g) } else { 0 };
        if extras {
            self.update_extras(g, l, row, r.inputs);
        }
        if several {
            self.update_columns(g, r.value);
        } else {
            self.add_value(g, r.value);
        }
        self.folded(g, before)
    }

    /// After a line's values went into group `g`, whose state held
    /// `before` bytes: its growth counted, or the line passed on.
    #[inline(always)]
    fn folded(&mut self, g: usize, before: usize) -> Result<(), Error> {
        let pass_on = self.passthrough;
        if self.grows && !pass_on {
            // A state that grew is counted; past the bound, groups are
            // written out, as when a new group finds no room.
            self.count_growth(g, before)?;
        } else {
            self.count_spilled(pass_on)?;
        }
        if pass_on {
            self.pass_line()?;
        }
        Ok(())
    }

    /// The lean path's fold of a line's value.
    #[inline(always)]
    fn fold_lean(&mut self, l: &[u8], value: Value) -> Result<(), Error> {
        let g = self.group(l)?;
        self.add_value(g, value);
        if self.passthrough {
            // The line that found no room for its group.
            return self.pass_line();
        }
        self.count_spilled(false)
    }

    /// Writes the line just folded into the scratch group as its own
    /// record, as every line is once groups are not combined in memory.
    fn pass_line(&mut self) -> Result<(), Error> {
        // The key's buffer is kept between lines: no allocation per line.
        let mut key = std::mem::take(&mut self.keyout);
        key.clear();
        let nkeys = self.plan.as_ref().map_or(0, Plan::key_count);
        push_wire_key(
            nkeys,
            &self.spec.text_na,
            self.spec.text_keys,
            &self.pass_key,
            &mut key,
        );
        self.write_record(&key, Some(0), &Counters::default())?;
        self.keyout = key;
        self.groups[0] = Held::default();
        self.held_bytes = 0;
        Ok(())
    }

    /// Folds a line's one value (or row) into group `g` and counts the
    /// line. The value goes to the group's state, or is held while there
    /// is room (see `held`); anything else makes the state.
    #[inline(always)]
    fn add_value(&mut self, g: usize, value: Value) {
        match value {
            Value::Num(x) if x.is_finite() => {
                if !self.groups[g].add_finite(x) {
                    self.first_update(g, x);
                }
                self.stats.counters.used += 1;
            }
            Value::Num(x) => {
                if !self.groups[g].add(x) {
                    self.state(g).aggs.update(x);
                }
                self.stats.counters.nonfinite += 1;
            }
            Value::Missing => {
                self.state(g).aggs.missing.add();
                self.stats.counters.missing += 1;
            }
            Value::Row => {
                if !self.groups[g].add_row() {
                    self.state(g).aggs.rows.add();
                }
                self.stats.counters.used += 1;
            }
        }
    }

    /// Makes group `g`'s state and folds `x` into it: once a group, out
    /// of line.
    #[inline(never)]
    fn first_update(&mut self, g: usize, x: f64) {
        self.state(g).aggs.update(x);
    }

    /// Counts what group `g`'s state grew by since it held `before` bytes
    /// (a sketch's buckets, an exact sum's spilled chunks), writing groups
    /// out past the bound.
    fn count_growth(&mut self, g: usize, before: usize) -> Result<(), Error> {
        let after = self.heap_of(g);
        self.held_bytes = (self.held_bytes + after).saturating_sub(before);
        if self.held_bytes > self.spec.max_bytes {
            self.evict(false)?;
        }
        self.count_spilled(false)
    }

    /// Counts an exact sum that outgrew its inline chunks (1e-300 and
    /// 1e300 in one group) as the growing states are counted: past the
    /// bound, groups are written out (not while passing lines through).
    #[inline(always)]
    fn count_spilled(&mut self, pass_on: bool) -> Result<(), Error> {
        let now = crate::superacc::spilled_bytes();
        if now != self.spilled {
            self.held_bytes += now.saturating_sub(self.spilled);
            self.spilled = now;
            if self.held_bytes > self.spec.max_bytes && !pass_on {
                self.evict(false)?;
            }
        }
        Ok(())
    }

    /// Folds a line's inputs into group `g`'s measures (jobs with
    /// [`Plan::extras`] only); `row` is the binary array's row the line
    /// is, if it is one (one test a line, not one a field).
    #[inline(always)]
    fn update_extras(
        &mut self,
        g: usize,
        l: &[u8],
        row: Option<(&[u8], Dtype)>,
        inputs: crate::agg::Inputs,
    ) {
        // Made and counted first: below, the line borrows the splitter
        // beside the state.
        self.state(g);
        let Some(plan) = &self.plan else { return };
        let state = &mut self.job.full(&mut self.groups[g]).aggs;
        let (na, text_na) = (&self.spec.na, &self.spec.text_na);
        match row {
            Some((row, dtype)) => feed_row(state, inputs, &plan.fields, row, dtype, na, text_na),
            None => {
                let line = Line {
                    fields: Text(&self.splitter, l),
                    na,
                    text_na,
                };
                state.feed(inputs, &plan.fields, &line);
            }
        }
    }

    /// What group `g`'s state holds on the heap, the empty state's share
    /// included (that much while it has no state).
    fn heap_of(&self, g: usize) -> usize {
        self.groups[g]
            .state()
            .map_or(self.proto_heap, Group::heap_size)
    }

    /// Group `g`'s state, made from its held values if it has none yet.
    #[inline]
    fn state(&mut self, g: usize) -> &mut Group {
        if !self.groups[g].is_full() {
            self.held_bytes += self.group_cost;
        }
        self.job.full(&mut self.groups[g])
    }

    /// Folds a line's values into group `g` when the job has several value
    /// columns (the first's `value`, the others' in `self.more`), and
    /// counts the line: used when some value is a finite number, else
    /// non-finite when some value is, else missing (each column's own
    /// tallies are in its aggregates). Kept out of the one-column loop,
    /// whose code it would otherwise grow.
    #[inline(never)]
    fn update_columns(&mut self, g: usize, value: Value) {
        let more = std::mem::take(&mut self.more);
        let group = self.state(g);
        let (mut finite, mut nonfinite) = (false, false);
        let first = match value {
            Value::Num(x) => Some(x),
            _ => None,
        };
        for (j, x) in std::iter::once(first)
            .chain(more.iter().copied())
            .enumerate()
        {
            let a = group.column(j);
            match x {
                Some(x) => {
                    a.update(x);
                    finite |= x.is_finite();
                    nonfinite |= !x.is_finite();
                }
                None => a.missing.add(),
            }
        }
        let c = &mut self.stats.counters;
        if finite {
            c.used += 1;
        } else if nonfinite {
            c.nonfinite += 1;
        } else {
            c.missing += 1;
        }
        self.more = more;
    }

    /// The tests of a line that only some lines need (the first of a file,
    /// those of a job without its plan yet, those after a held first
    /// record, `--header every`): `None` when the line is taken (a header,
    /// or held), else the bytes at its start to skip (a byte order mark).
    #[cold]
    #[inline(never)]
    fn slow_line(&mut self, raw: &[u8]) -> Result<Option<usize>, Error> {
        let mut skip = 0;
        let result = if self.at_start {
            // As Hadoop's LineRecordReader, which drops a UTF-8 byte order
            // mark only at the start of a split at the start of its file.
            if self.line_no == 1 && raw.starts_with(BOM) {
                skip = BOM.len();
            }
            let l = &raw[skip..];
            if l.is_empty() {
                self.stats.counters.blank += 1;
                return Ok(None);
            }
            self.at_start = false;
            self.first_record(l)
        } else if self.repeat_header.as_deref() == Some(raw) {
            self.stats.counters.header += 1;
            Ok(false)
        } else {
            if self.plan.is_none() {
                // A split past the start of its file: its first line is data.
                self.set_plan(Plan::bind(&self.spec, None)?);
            }
            if self.pending.is_some() {
                self.sniff(raw)?;
            }
            Ok(true)
        };
        self.update_slow();
        Ok(result?.then_some(skip))
    }

    /// Whether the next line needs [`Mapper::slow_line`]'s tests.
    #[cold]
    #[inline(never)]
    fn update_slow(&mut self) {
        self.slow = self.at_start
            || self.plan.is_none()
            || self.pending.is_some()
            || self.repeat_header.is_some();
    }

    /// The first non-blank record of a file: a header or data, by the
    /// rule of [`crate::header`]; true when it is data.
    fn first_record(&mut self, l: &[u8]) -> Result<bool, Error> {
        let n = self.splitter.split(l);
        let fields: Vec<Vec<u8>> = (0..n)
            .filter_map(|i| self.splitter.field(l, i))
            .map(|f| f.trim_ascii().to_vec())
            .collect();
        let header = match crate::header::decide(&self.spec, &fields)? {
            Decision::Header => true,
            Decision::Data => false,
            Decision::Sniff(sniff) => {
                // Nothing tells: the records after it will.
                self.set_plan(Plan::bind(&self.spec, None)?);
                self.pending = Some(Box::new(Pending {
                    sniff,
                    line: l.to_vec(),
                    line_no: self.line_no,
                }));
                return Ok(false);
            }
        };
        if !header {
            if self.plan.is_none() {
                self.set_plan(Plan::bind(&self.spec, None)?);
            }
            return Ok(true);
        }
        if self.plan.is_none() {
            let plan = Plan::bind(&self.spec, Some(&fields)).map_err(|e| match e {
                // A first line with a word in it is a header without the
                // name (a typo); one of numbers is data, and the names
                // need a schema.
                Error::UnknownColumn { name, schema }
                    if fields
                        .iter()
                        .any(|f| !f.is_empty() && parse_number(f).is_none()) =>
                {
                    Error::NotInHeader {
                        name,
                        header: schema,
                    }
                }
                Error::UnknownColumn { name, .. } => Error::NoSchema { name },
                e => e,
            })?;
            self.set_plan(plan);
            self.schema = Some(fields);
        }
        if self.spec.header == HeaderMode::Every {
            self.repeat_header = Some(l.to_vec());
        }
        self.stats.counters.header += 1;
        Ok(false)
    }

    /// Shows a record after a held first record to the sniffer; once it
    /// has a verdict, counts the first as a header or folds it in as data.
    fn sniff(&mut self, l: &[u8]) -> Result<(), Error> {
        let Some(p) = &mut self.pending else {
            return Ok(());
        };
        let n = self.splitter.split(l);
        let splitter = &self.splitter;
        let verdict = p.sniff.record(
            n,
            |i| splitter.field(l, i).map(<[u8]>::trim_ascii),
            &self.spec.na,
        );
        match verdict {
            Some(v) => self.settle(v),
            None => Ok(()),
        }
    }

    /// Counts the held first record as a header, or folds it in as data
    /// (as line `line_no`).
    fn settle(&mut self, header: bool) -> Result<(), Error> {
        let Some(p) = self.pending.take() else {
            return Ok(());
        };
        self.update_slow();
        if header {
            self.stats.counters.header += 1;
            if self.schema.is_none() {
                self.schema = Some(p.sniff.into_names());
            }
            return Ok(());
        }
        let now = std::mem::replace(&mut self.line_no, p.line_no - 1);
        let r = self.line_with(&p.line, None);
        self.line_no = now;
        r
    }

    /// A line that does not parse (its `n` fields already split): the
    /// header written another way (quoted, spaces after the delimiters), a
    /// header with the columns in another order (an error: its file's rows
    /// would be read from the wrong columns), or a malformed line.
    #[cold]
    fn malformed(&mut self, l: &[u8], n: usize, why: String) -> Result<(), Error> {
        if let Some(s) = &self.schema
            && s.len() == n
        {
            let mut fields: Vec<&[u8]> = (0..n)
                .map(|i| self.splitter.field(l, i).unwrap_or_default().trim_ascii())
                .collect();
            // The header of a file joined on with `cat` keeps its byte
            // order mark (only a file's first line loses it).
            if let Some(f) = fields.first_mut() {
                *f = f.strip_prefix(BOM).unwrap_or(f);
            }
            if fields.iter().zip(s).all(|(f, name)| f == name) {
                self.stats.counters.header += 1;
                return Ok(());
            }
            let mut a: Vec<&[u8]> = s.iter().map(Vec::as_slice).collect();
            let mut b = fields.clone();
            a.sort_unstable();
            b.sort_unstable();
            if a == b {
                return Err(Error::OtherHeader {
                    line: self.line_no,
                    location: self.location.clone(),
                    found: snippet(l),
                    schema: snippet(&s.join(&b","[..])),
                });
            }
        }
        note_malformed(
            &mut self.stats,
            &mut self.first_malformed,
            self.line_no,
            l,
            why,
        );
        Ok(())
    }

    /// The index of the line's group, creating it (and flushing first when
    /// the group limit is reached).
    #[inline(always)]
    fn group(&mut self, l: &[u8]) -> Result<usize, Error> {
        if self.one_group && self.last_idx != usize::MAX {
            // Without keys every line has the one group: nothing to compare.
            self.run += 1;
            return Ok(self.last_idx);
        }
        let Some(plan) = &self.plan else {
            return Ok(0);
        };
        // Field by field below: the key borrows the splitter and `keybuf`.
        let raw = if self.key_made {
            &self.derived_key[..]
        } else {
            raw_key(Text(&self.splitter, l), &mut self.keybuf, &plan.keys)
        };
        if self.passthrough {
            self.pass_key.clear();
            self.pass_key.extend_from_slice(raw);
            return Ok(self.scratch());
        }
        let last = self.last_idx;
        if last != usize::MAX && crate::keys::same_key(raw, &self.last_key) {
            self.run += 1;
            return Ok(last);
        }
        if let Some(i) = self.keys.find(raw) {
            settle(&mut self.hits, self.last_idx, &mut self.run);
            self.run = 1;
            self.last_idx = i;
            self.last_key.clear();
            self.last_key.extend_from_slice(raw);
            return Ok(i);
        }
        // A new group: its key kept aside while room is made.
        self.pass_key.clear();
        self.pass_key.extend_from_slice(raw);
        self.new_group()
    }

    /// Makes the group of the key in `pass_key`, which has none: out of
    /// line, as most lines find theirs.
    #[inline(never)]
    fn new_group(&mut self) -> Result<usize, Error> {
        self.settle_run();
        let cost = self.held_cost + self.pass_key.len();
        let room = self.held_bytes + cost <= self.spec.max_bytes;
        if self.groups.len() >= self.sizing.cap() || !room {
            self.evict(room)?;
            if self.passthrough {
                return Ok(self.scratch());
            }
        }
        if self.groups.capacity() < self.sizing.cap() {
            // Room for as many groups as the limit allows, at once:
            // growing by doubling moved every group each time.
            let fit = (self.spec.max_bytes / self.held_cost).min(self.sizing.cap());
            let more = fit.saturating_sub(self.groups.len());
            self.groups.reserve_exact(more);
            self.hits.reserve_exact(more);
            self.keys.reserve(more);
        }
        self.groups_made += 1;
        self.groups.push(Held::default());
        self.hits.push(1);
        self.held_bytes += cost;
        self.last_idx = self.keys.push(&self.pass_key);
        std::mem::swap(&mut self.last_key, &mut self.pass_key);
        Ok(self.last_idx)
    }

    /// The one group of pass-through mode, reset after each line.
    fn scratch(&mut self) -> usize {
        if self.groups.is_empty() {
            self.groups.push(Held::default());
        }
        self.settle_run();
        self.last_idx = usize::MAX;
        0
    }

    /// Adds the lines of the current run to its group's hits, before the
    /// run's group changes or the hits are read.
    fn settle_run(&mut self) {
        settle(&mut self.hits, self.last_idx, &mut self.run);
    }

    /// Makes room when the table is full (see [`Sizing`]; `room` says
    /// whether memory would allow more groups): raises the limit, or writes
    /// out the groups hit least since the last eviction, keeping at most
    /// half the limit, so the hot keys of a skewed stream (a Zipf
    /// distribution of pages or words) go on combining in memory instead of
    /// being written again and again. Kept groups' hits are halved (aging).
    ///
    /// When the table has combined almost nothing (fewer than one line in
    /// ten joined an existing group: ids, all-distinct keys), holding it
    /// only costs time, so the task writes the groups and passes every
    /// further line on as its own record, as Spark skips partial
    /// aggregation; Hadoop's sort and the combiner still merge them.
    fn evict(&mut self, room: bool) -> Result<(), Error> {
        self.settle_run();
        let c = &self.stats.counters;
        let rows = c.used + c.nonfinite + c.missing;
        let keep = match self.sizing.full(rows, self.groups_made, room) {
            Full::Grow => return Ok(()),
            Full::Evict { keep } => keep.min(self.groups.len() / 2),
        };
        self.stats.early_flushes += 1;
        // Judged at the table's settled size: a small table combines
        // little of evenly repeated keys that a bigger one holds.
        if self.sizing.settled() && self.groups_made.saturating_mul(10) >= rows.saturating_mul(9) {
            self.flush_groups()?;
            self.passthrough = true;
            self.lean = false;
            return Ok(());
        }
        let mut sorted = self.hits.clone();
        let n = sorted.len();
        let threshold = match n {
            0..8 => u32::MAX,
            _ => *sorted.select_nth_unstable(n - keep - 1).1,
        };
        drop(sorted);
        let keep: Vec<bool> = self.hits.iter().map(|&h| h > threshold).collect();
        // Write the cold groups, then compact the rest in place: no second
        // copy of the table at any point.
        self.write_groups(|i| !keep[i])?;
        let mut w = 0;
        for (i, &k) in keep.iter().enumerate() {
            if k {
                self.groups.swap(i, w);
                self.hits.swap(i, w);
                self.hits[w] /= 2;
                w += 1;
            }
        }
        self.groups.truncate(w);
        self.hits.truncate(w);
        self.keys.retain(&keep);
        let states: usize = self
            .groups
            .iter()
            .filter_map(Held::state)
            .map(|g| self.group_cost + g.heap_size() - self.proto_heap.min(g.heap_size()))
            .sum();
        self.held_bytes = self.held_cost * self.keys.len() + states + self.keys.bytes();
        Ok(())
    }

    /// Writes every held group and empties memory.
    fn flush_groups(&mut self) -> Result<(), Error> {
        self.write_groups(|_| true)?;
        self.keys.clear();
        self.groups.clear();
        self.hits.clear();
        self.held_bytes = 0;
        Ok(())
    }

    /// Writes the held groups whose index `pick` accepts, in table order.
    /// Unsorted: Hadoop and the local runner sort map output anyway, and
    /// sorting here as well (a vector per key) would be paid twice. Groups
    /// whose keys become one when canonicalised
    /// (`7` and `007`) are written as two records, merged downstream like
    /// any other records of one key.
    fn write_groups(&mut self, pick: impl Fn(usize) -> bool) -> Result<(), Error> {
        self.settle_run();
        let nkeys = self.plan.as_ref().map_or(0, Plan::key_count);
        let (na, text) = (&self.spec.text_na, self.spec.text_keys);
        for i in (0..self.keys.len()).filter(|&i| pick(i)) {
            let raw = self.keys.get(i);
            let key = |b: &mut Vec<u8>| push_wire_key(nkeys, na, text, raw, b);
            let (held, job) = (&self.groups[i], &mut self.job);
            let body = |b: &mut Vec<u8>| job.encode(held, b);
            write_line(&mut self.out, &mut self.wbuf, key, body)?;
            self.stats.records_out += 1;
        }
        self.last_idx = usize::MAX;
        Ok(())
    }

    /// Writes `key`, the group at `group` (none for the counters record)
    /// and `counters`.
    fn write_record(
        &mut self,
        key: &[u8],
        group: Option<usize>,
        counters: &Counters,
    ) -> Result<(), Error> {
        let key = |b: &mut Vec<u8>| b.extend_from_slice(key);
        match group {
            Some(g) => {
                let (held, job) = (&self.groups[g], &mut self.job);
                let body = |b: &mut Vec<u8>| job.encode(held, b);
                write_line(&mut self.out, &mut self.wbuf, key, body)?;
            }
            None => {
                let report = &self.report;
                let body = |b: &mut Vec<u8>| wire::encode(&Group::default(), counters, report, b);
                write_line(&mut self.out, &mut self.wbuf, key, body)?;
            }
        }
        self.stats.records_out += 1;
        Ok(())
    }

    /// Ends the task: fails it when too many lines were malformed, else
    /// writes every group and the counters record.
    pub fn finish(mut self) -> Result<MapStats, Error> {
        // A first record held to the end: the records seen decide.
        if let Some(p) = &self.pending {
            let header = p.sniff.verdict();
            self.settle(header)?;
        }
        let c = self.stats.counters;
        let first = self
            .first_malformed
            .take()
            .map(|(line, why)| format!("line {line} of {}: {why}", self.location));
        check_malformed(
            &c,
            self.spec.max_malformed,
            first.as_deref().unwrap_or_default(),
        )?;
        self.flush_groups()?;
        self.write_record(key::COUNTERS_KEY, None, &c)?;
        self.out.flush()?;
        Ok(self.stats)
    }

    /// What the reducer is to report (`cli::WhatArgs::encode`'s
    /// token): written into the counters record, from which a reducer
    /// learns it.
    pub fn set_report(&mut self, token: &str) {
        self.report = token.as_bytes().to_vec();
    }

    /// The field delimiter of the job.
    pub fn delimiter(&self) -> u8 {
        self.spec.delimiter
    }

    /// How the input is cut into records.
    pub fn framing(&self) -> crate::lines::Framing {
        crate::lines::Framing::text(self.spec.delimiter)
    }

    /// Counters so far.
    pub fn counters(&self) -> Counters {
        self.stats.counters
    }

    /// The first malformed line and why, for the task log (the driver
    /// names it when the job as a whole has too many).
    pub fn first_malformed(&self) -> Option<String> {
        self.first_malformed
            .as_ref()
            .map(|(line, why)| format!("line {line} of {}: {why}", self.location))
    }
}

/// The prefix of the task-log line that names a task's first malformed line.
pub const FIRST_MALFORMED: &str = "mapfold-map: first malformed line: ";

/// Fails when more than `max` of the lines are malformed: a task's lines in
/// a pipe, the job's in the driver (so a job's fate never depends on how
/// its input was split). `first` names the first malformed line.
pub fn check_malformed(c: &Counters, max: f64, first: &str) -> Result<(), Error> {
    if c.malformed > 0 && c.malformed as f64 > max * c.lines_in() as f64 {
        return Err(Error::TooManyMalformed {
            malformed: c.malformed,
            lines: c.lines_in(),
            max,
            first: first.to_owned(),
        });
    }
    Ok(())
}

/// Writes one record, `KEY<TAB>PARTIAL`, built in `buf`: the key that
/// `key` appends, then the partial that `body` appends.
fn write_line<W: Write>(
    out: &mut W,
    buf: &mut Vec<u8>,
    key: impl FnOnce(&mut Vec<u8>),
    body: impl FnOnce(&mut Vec<u8>),
) -> std::io::Result<()> {
    buf.clear();
    key(buf);
    buf.push(b'\t');
    body(buf);
    buf.push(b'\n');
    out.write_all(buf)
}

/// Appends the wire key of a raw group key of `nkeys` fields: each field
/// canonical (or verbatim with `text_keys`), a missing field as
/// [`key::MISSING`].
fn push_wire_key(nkeys: usize, na: &Na, text_keys: bool, raw: &[u8], out: &mut Vec<u8>) {
    if nkeys == 0 {
        out.extend_from_slice(key::ALL_KEY);
        return;
    }
    // One field as it is, several length-prefixed (see `raw_key`).
    let mut rest = raw;
    let mut next = || -> Option<&[u8]> {
        if nkeys == 1 {
            return Some(std::mem::take(&mut rest));
        }
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let (f, tail) = tail.split_at((u32::from_le_bytes(*len) as usize).min(tail.len()));
        rest = tail;
        Some(f)
    };
    for i in 0..nkeys {
        let f = next().unwrap_or_default();
        if i > 0 {
            out.push(b',');
        }
        if na.is(f) {
            out.extend_from_slice(key::MISSING);
        } else if text_keys {
            key::push_text(out, f);
        } else {
            key::push_field(out, f);
        }
    }
}

/// See [`Mapper::settle_run`] (fields apart, for a caller that holds a
/// key borrowed from the mapper).
fn settle(hits: &mut [u32], last: usize, run: &mut u64) {
    let run = std::mem::take(run);
    if let Some(h) = hits.get_mut(last) {
        *h = h.saturating_add(u32::try_from(run).unwrap_or(u32::MAX));
    }
}

/// A line's group key before canonicalising: its key field, or the key
/// fields length-prefixed (so fields holding any byte cannot collide).
#[inline(always)]
fn raw_key<'b, 'a: 'b>(fields: impl Fields<'a>, buf: &'b mut Vec<u8>, keys: &[usize]) -> &'b [u8] {
    match keys {
        [] => key::ALL_KEY,
        [k] => fields.key_field(*k, buf),
        ks => {
            buf.clear();
            for &k in ks {
                let f = fields.raw(k);
                key::push_raw_field(buf, true, |b| b.extend_from_slice(&f));
            }
            buf
        }
    }
}

/// A line's key when some key is derived or the file's name, in
/// [`raw_key`]'s form: each field derived from its column (a missing
/// value stays missing), or why the line has none.
#[inline(never)]
fn derive_key<'a>(
    keys: &[crate::job::KeyPlan],
    fields: impl Fields<'a>,
    file: &[u8],
    job: &crate::job::Job,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    out.clear();
    let several = keys.len() > 1;
    for k in keys {
        let field = k.field.map(|i| fields.raw(i));
        let src = field.as_deref().unwrap_or(file);
        // Each field written in place: no buffer per line.
        key::push_raw_field(out, several, |out| match &k.derive {
            _ if k.field.is_some() && job.text_na.is(src) => {
                out.extend_from_slice(src);
                Ok(())
            }
            None => {
                out.extend_from_slice(src);
                Ok(())
            }
            Some(d) => d
                .apply(src, job.date_order, k.field.is_none(), out)
                .map_err(|why| {
                    let mut m = String::from("key ");
                    m.push_str(&String::from_utf8_lossy(&src[..src.len().min(40)]));
                    m.push_str(": ");
                    m.push_str(why);
                    m
                }),
        })?;
    }
    Ok(())
}

/// [`Aggregates::feed`] of an array's row: out of line, so that the text
/// lines' code stays as it was.
#[inline(never)]
fn feed_row(
    state: &mut Aggregates,
    inputs: crate::agg::Inputs,
    fields: &crate::agg::Fields,
    row: &[u8],
    dtype: Dtype,
    na: &Na,
    text_na: &Na,
) {
    let line = Line {
        fields: Row(row, dtype),
        na,
        text_na,
    };
    state.feed(inputs, fields, &line);
}

/// What a line gives the job, read before it is counted.
struct Read {
    /// Every filter holds.
    pass: bool,
    value: Value,
    inputs: crate::agg::Inputs,
}

/// Reads a line's filters, value columns (the first returned, the others
/// in `more`), group-measure inputs and derived key (into `key`), or why
/// the line is malformed. Broken beats filtered beats missing: every check
/// runs before the line is counted. A comparison with a missing field does
/// not hold (SQL's NULL semantics).
#[inline(always)]
fn read_line<'a>(
    plan: &Plan,
    fields: impl Fields<'a>,
    spec: &Job,
    file: &[u8],
    more: &mut Vec<Option<f64>>,
    key: &mut Vec<u8>,
) -> Result<Read, String> {
    let mut pass = true;
    for (i, test) in &plan.wheres {
        if let Test::Num(op, rhs) = test
            && !spec.na.numeric
            && let Some(x) = fields.number(*i)
        {
            pass &= op.eval(x, *rhs);
            continue;
        }
        let f = fields.raw(*i);
        let f = &*f;
        let text = !matches!(test, Test::Num(..) | Test::Time(..));
        let na = if text { &spec.text_na } else { &spec.na };
        if (text || na.numeric) && na.is(f) {
            pass = false;
            continue;
        }
        // A comparison's field parsed once: above, unless a missing-value
        // text is a number (then here).
        let parsed = match test {
            Test::Num(..) if spec.na.numeric => parse_number(f),
            _ => None,
        };
        let held = match test {
            Test::Num(op, rhs) => parsed.map(|x| op.eval(x, *rhs)),
            _ => test.eval(f),
        };
        match held {
            Some(ok) => pass &= ok,
            None if na.is(f) => pass = false,
            // Digits grouped with --thousands.
            None if let (Test::Num(op, rhs), Ok(Some(x))) = (test, na.classify(f, None)) => {
                pass &= op.eval(x, *rhs);
            }
            None => {
                let what = if matches!(test, Test::Time(..)) {
                    "a date"
                } else {
                    "a number"
                };
                return Err(format!(
                    "--where column {} is not {what} ({:?})",
                    i + 1,
                    snippet(f)
                ));
            }
        }
    }
    let value = match plan.values.first() {
        None => Value::Row,
        Some(&v) => value_of(fields, v, &spec.na)?,
    };
    more.clear();
    for &v in plan.values.get(1..).unwrap_or_default() {
        more.push(match value_of(fields, v, &spec.na)? {
            Value::Num(x) => Some(x),
            _ => None,
        });
    }
    // What the line gives the group measures (a pair of numbers, say): a
    // field that is not a number makes it malformed.
    let inputs = if plan.extras {
        let line = Line {
            fields,
            na: &spec.na,
            text_na: &spec.text_na,
        };
        Aggregates::read(&plan.fields, &line)?
    } else {
        Default::default()
    };
    if let Some(keys) = &plan.derived {
        derive_key(keys, fields, file, spec, key)?;
    }
    Ok(Read {
        pass,
        value,
        inputs,
    })
}

/// The number in field `v` of a line, or its absence; why the line is
/// malformed when the field is neither.
#[inline(always)]
fn value_of<'a>(fields: impl Fields<'a>, v: usize, na: &Na) -> Result<Value, String> {
    if !na.numeric
        && let Some(x) = fields.number(v)
    {
        return Ok(Value::Num(x));
    }
    let f = fields.raw(v);
    // Parsed once: above, unless a missing-value text is a number.
    let parsed = if na.numeric { parse_number(&f) } else { None };
    match na.classify(&f, parsed) {
        Ok(Some(x)) => Ok(Value::Num(x)),
        Ok(None) => Ok(Value::Missing),
        Err(()) => Err(format!(
            "value column {} is not a number ({:?})",
            v + 1,
            snippet(&f)
        )),
    }
}

#[cold]
fn note_malformed(
    stats: &mut MapStats,
    first: &mut Option<(u64, String)>,
    line_no: u64,
    l: &[u8],
    why: String,
) {
    stats.counters.malformed += 1;
    if first.is_none() {
        *first = Some((line_no, format!("{why}: {:?}", snippet(l))));
    }
}

impl<W: Write> crate::lines::Records<Error> for Mapper<W> {
    fn record(&mut self, line: &[u8], delims: Option<Delims>) -> Result<(), Error> {
        self.line_with(line, delims)
    }

    fn records(&mut self, window: Window<'_>) -> Result<(), Error> {
        self.lines(window)
    }

    fn too_long(&mut self, len: u64) -> Result<(), Error> {
        Mapper::too_long(self, len);
        Ok(())
    }

    fn typed(&self) -> Option<crate::lines::Typed> {
        let plan = self.plan.as_ref()?;
        if self.slow {
            return None;
        }
        let tests = plan.wheres.iter().map(|(i, t)| match t {
            Test::Num(op, rhs) => Some((*i, *op, *rhs)),
            _ => None,
        });
        let run = match (&plan.values[..], &plan.keys[..]) {
            (&[value], []) if !plan.extras && plan.derived.is_none() && !self.spec.na.numeric => {
                tests
                    .collect::<Option<_>>()
                    .map(|tests| crate::lines::Run { value, tests })
            }
            _ => None,
        };
        Some(crate::lines::Typed {
            width: plan.width,
            max_field: plan.max_field,
            run,
        })
    }

    /// The steps of [`Mapper::line_with`] for a row of numbers: its plain
    /// key fields written as their text, each field read from the row.
    fn row(&mut self, row: &[u8], dtype: Dtype) -> Result<(), Error> {
        self.line_no += 1;
        let Some(plan) = &self.plan else {
            return Ok(());
        };
        let fields = Row(row, dtype);
        let key = &mut self.derived_key;
        if plan.derived.is_none() {
            // A row's key fields are written into the buffer (a text line's
            // would be its own slices); the one group's is the constant.
            if plan.keys.is_empty() {
                key.clear();
                key.extend_from_slice(key::ALL_KEY);
            } else {
                raw_key(fields, key, &plan.keys);
            }
        }
        let read = read_line(
            plan,
            fields,
            &self.spec,
            &self.file_name,
            &mut self.more,
            key,
        );
        // The key is made here, not found in the row's text.
        self.key_made = true;
        match read {
            Ok(r) => self.fold_read(r, b"", Some((row, dtype))),
            Err(why) => {
                let mut text = Vec::new();
                dtype.push_row(row, self.spec.delimiter, &mut text);
                note_malformed(
                    &mut self.stats,
                    &mut self.first_malformed,
                    self.line_no,
                    &text,
                    why,
                );
                Ok(())
            }
        }
    }

    /// The lean path for values given as numbers: the steps
    /// [`Mapper::line_with`] takes after parsing each, the run folded in
    /// aggregate by aggregate once the one group has its state.
    fn numbers(&mut self, xs: &[f64]) -> Result<(), Error> {
        let fold_one = |m: &mut Self, x: f64| -> Result<(), Error> {
            m.line_no += 1;
            let r = Read {
                pass: true,
                value: Value::Num(x),
                inputs: Default::default(),
            };
            m.fold_read(r, b"", None)
        };
        if self.passthrough {
            for &x in xs {
                fold_one(self, x)?;
            }
            return Ok(());
        }
        let Some((&x, rest)) = xs.split_first() else {
            return Ok(());
        };
        fold_one(self, x)?;
        if rest.is_empty() {
            return Ok(());
        }
        // The group's values held so far went into its state first.
        let g = self.group(b"")?;
        let before = self.heap_of(g);
        self.state(g).aggs.update_batch(rest);
        self.line_no += rest.len() as u64;
        let finite = rest.iter().filter(|x| x.is_finite()).count() as u64;
        let c = &mut self.stats.counters;
        c.used += finite;
        c.nonfinite += rest.len() as u64 - finite;
        self.folded(g, before)
    }

    fn filtered(&mut self, n: u64) -> Result<(), Error> {
        self.line_no += n;
        self.stats.counters.filtered += n;
        Ok(())
    }

    /// `n` rows of the value `x` folded at once into the one group (a
    /// [`crate::lines::Typed::run`] has no keys): the same state and
    /// counters as `n` rows of it.
    fn number_n(&mut self, x: f64, n: u64) -> Result<(), Error> {
        if n == 0 {
            return Ok(());
        }
        self.line_no += n;
        let g = self.group(b"")?;
        let before = self.heap_of(g);
        self.state(g).aggs.update_n(x, n);
        let c = &mut self.stats.counters;
        if x.is_finite() {
            c.used += n;
        } else {
            c.nonfinite += n;
        }
        self.folded(g, before)
    }
}

/// The header of a file that starts with `head` (its first bytes), by the
/// rule its task applies ([`crate::header`]): its names, trimmed, or `None`
/// when the file starts with data. The driver's look, before any task runs.
pub fn header_of(spec: &Job, head: &[u8]) -> Result<Option<Vec<Vec<u8>>>, Error> {
    let mut m = Mapper::new(spec.clone(), String::new(), std::io::sink())?;
    let framing = m.framing();
    let mut sink = (
        |l: &[u8], _| {
            m.line(l)?;
            // Decided: stop reading.
            if !m.at_start && m.pending.is_none() {
                return Err(Error::Io(std::io::ErrorKind::Interrupted.into()));
            }
            Ok(())
        },
        |_| Ok(()),
    );
    match crate::lines::for_each_record(head, framing, crate::lines::MAX_LINE, &mut sink) {
        Ok(()) => {}
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::Interrupted => {}
        Err(e) => return Err(e),
    }
    if let Some(p) = &m.pending {
        let header = p.sniff.verdict();
        m.settle(header)?;
    }
    Ok((m.stats.counters.header > 0).then(|| m.schema.clone().unwrap_or_default()))
}

/// True when Hadoop's environment says this task's split starts past byte 0
/// of its file.
pub fn split_starts_mid_file() -> bool {
    ["mapreduce_map_input_start", "map_input_start"]
        .iter()
        .find_map(|n| std::env::var(n).ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .is_some_and(|start| start > 0)
}

/// The environment variable in which the local runner tells a task handed
/// a file as its stdin how many bytes of it the split holds.
pub const SPLIT_BYTES: &str = "mapfold_split_bytes";

/// [`SPLIT_BYTES`] from the environment, when set.
pub fn split_bytes_from_env() -> Option<u64> {
    std::env::var(SPLIT_BYTES).ok()?.trim().parse().ok()
}

/// Names the input of a streaming task for messages, from the environment
/// Hadoop gives every task (`mapreduce_map_input_file`, `..._start`).
pub fn input_location_from_env() -> String {
    let var = |names: &[&str]| names.iter().find_map(|n| std::env::var(n).ok());
    match var(&["mapreduce_map_input_file", "map_input_file"]) {
        Some(file) => match var(&["mapreduce_map_input_start", "map_input_start"]) {
            Some(start) if start != "0" => format!("{file} (split starting at byte {start})"),
            _ => file,
        },
        None => "standard input".to_owned(),
    }
}
