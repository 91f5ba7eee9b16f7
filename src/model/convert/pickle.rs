//! A reader for the subset of Python's pickle format (protocol 2) that
//! PyTorch's legacy `torch.save` emits.
//!
//! Pickle is a small stack machine whose instructions can import and call
//! arbitrary Python code. This reader never executes anything:
//!
//! * only the opcodes listed in [`read_pickle`]'s documentation are accepted;
//!   any other opcode is refused with [`ConvertError::PickleOpcode`] naming it;
//! * `GLOBAL` resolves only against the fixed allow-list [`Global`]; anything
//!   else is refused with [`ConvertError::PickleGlobal`];
//! * `REDUCE` (a call) on `collections.OrderedDict` with no arguments yields an
//!   empty [`Value::Dict`]; on `torch._utils._rebuild_tensor_v2` it yields an
//!   inert [`Value::Call`] that the caller interprets; anything else is refused;
//! * `BINPERSID` wraps the persistent id in [`Value::PersistentId`], leaving its
//!   interpretation (storages, for PyTorch) to the caller.
//!
//! Values have value semantics: the memo (`BINPUT`/`BINGET`) hands out copies.
//! Python's pickler memoizes a list or dict right after creating it empty and
//! fills it afterwards, so a container's memo entry is only taken once the
//! container leaves the stack, complete. A reference to a container that is
//! still being filled can only come from a self-referential structure, which
//! is refused.

use std::collections::HashMap;

use super::ConvertError;

/// Deepest nesting of containers accepted. Deeper values would make the
/// recursive `Drop`/`Clone` of [`Value`] risk a stack overflow, and nothing
/// PyTorch writes comes close.
pub(crate) const MAX_DEPTH: usize = 256;

/// The most the memo may copy in one pickle, counted in values plus string
/// bytes. Copies have value semantics, so a few hundred bytes that store a
/// tuple of two fetches of the previous one, over and over, would double in
/// size at each step; PyTorch's files copy a few thousand values at most.
pub(crate) const MAX_MEMO_COPY: usize = 1 << 20;

/// The only classes/functions a pickle may refer to with `GLOBAL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Global {
    /// `collections.OrderedDict`: the type of a state dict.
    OrderedDict,
    /// `torch._utils._rebuild_tensor_v2`: builds a tensor from a storage.
    RebuildTensorV2,
    /// `torch.FloatStorage`: a storage of `f32`.
    FloatStorage,
    /// `torch.LongStorage`: a storage of `i64` (e.g. `num_batches_tracked`).
    LongStorage,
}

impl Global {
    /// Every allowed global, for lookups.
    const ALL: [Global; 4] = [
        Global::OrderedDict,
        Global::RebuildTensorV2,
        Global::FloatStorage,
        Global::LongStorage,
    ];

    /// The `(module, name)` pair as it appears after a `GLOBAL` opcode.
    pub(crate) fn path(self) -> (&'static str, &'static str) {
        match self {
            Global::OrderedDict => ("collections", "OrderedDict"),
            Global::RebuildTensorV2 => ("torch._utils", "_rebuild_tensor_v2"),
            Global::FloatStorage => ("torch", "FloatStorage"),
            Global::LongStorage => ("torch", "LongStorage"),
        }
    }

    /// Looks up an allowed global by module and name.
    pub(crate) fn resolve(module: &str, name: &str) -> Option<Global> {
        Self::ALL.into_iter().find(|g| g.path() == (module, name))
    }
}

/// A value built by the pickle machine.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Python `None`.
    None,
    /// Python `bool`.
    Bool(bool),
    /// Python `int` (at most 128 bits here).
    Int(i128),
    /// Python `float`.
    Float(f64),
    /// Python `str`.
    Str(String),
    /// Python `tuple`.
    Tuple(Vec<Value>),
    /// Python `list`.
    List(Vec<Value>),
    /// Python `dict` or `OrderedDict`, in insertion order. Keys are not
    /// deduplicated: consumers should let a later entry win, as Python does.
    Dict(Vec<(Value, Value)>),
    /// A reference to an allowed class or function.
    Global(Global),
    /// A call `func(*args)` that was recorded, not executed.
    Call {
        /// The function called.
        func: Global,
        /// Its positional arguments.
        args: Vec<Value>,
    },
    /// An object the pickle refers to by persistent id (`BINPERSID`).
    PersistentId(Box<Value>),
}

impl Value {
    /// What copying this value costs against [`MAX_MEMO_COPY`]: one per
    /// value plus the bytes of its strings; the count stops past `limit`.
    fn copy_cost(&self, limit: usize) -> usize {
        let own = match self {
            Value::Str(s) => 1 + s.len(),
            _ => 1,
        };
        let mut cost = own;
        let add = |v: &Value, cost: &mut usize| {
            if *cost <= limit {
                *cost = cost.saturating_add(v.copy_cost(limit - *cost));
            }
        };
        match self {
            Value::Tuple(items) | Value::List(items) | Value::Call { args: items, .. } => {
                items.iter().for_each(|v| add(v, &mut cost));
            }
            Value::Dict(entries) => entries.iter().for_each(|(k, v)| {
                add(k, &mut cost);
                add(v, &mut cost);
            }),
            Value::PersistentId(v) => add(v, &mut cost),
            _ => {}
        }
        cost
    }

    /// The string, if this is a `str`.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an `int` (booleans are not integers here).
    pub(crate) fn as_int(&self) -> Option<i128> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The items, if this is a tuple.
    pub(crate) fn as_tuple(&self) -> Option<&[Value]> {
        match self {
            Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub(crate) fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The entries, if this is a dict.
    pub(crate) fn as_dict(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Dict(entries) => Some(entries),
            _ => None,
        }
    }

    /// A short description of the value's kind, for error messages.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Global(_) => "global",
            Value::Call { .. } => "call",
            Value::PersistentId(_) => "persistent id",
        }
    }
}

/// Python's name for an opcode byte, for error messages.
fn opcode_name(code: u8) -> &'static str {
    match code {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => "UNKNOWN",
    }
}

/// Reads one pickle starting at `data[start]`, up to and including its
/// `STOP` opcode.
///
/// Returns the value and the offset just past `STOP`, where the next pickle
/// or raw data of a PyTorch file begins. Offsets in errors count from the
/// start of `data`.
///
/// Accepted opcodes: `PROTO` (protocol 2 only), `STOP`, `MARK`, `NONE`,
/// `NEWTRUE`, `NEWFALSE`, `BININT`, `BININT1`, `BININT2`, `LONG1`,
/// `BINFLOAT`, `BINUNICODE`, `EMPTY_TUPLE`, `TUPLE`, `TUPLE1`, `TUPLE2`,
/// `TUPLE3`, `EMPTY_LIST`, `APPEND`, `APPENDS`, `EMPTY_DICT`, `SETITEM`,
/// `SETITEMS`, `BINPUT`, `LONG_BINPUT`, `BINGET`, `LONG_BINGET`, `GLOBAL`,
/// `REDUCE`, `BUILD` (attribute state on a dict is read and discarded; PyTorch
/// stores the state dict's `_metadata` versions there) and `BINPERSID`.
pub fn read_pickle(data: &[u8], start: usize) -> Result<(Value, usize), ConvertError> {
    let mut machine = Machine::new(data, start);
    let value = machine.run()?;
    Ok((value, machine.pos))
}

/// A memo entry: either a finished value, or a container still on the stack
/// (identified by its slot's serial number).
enum Memo {
    Done(Value, usize),
    Building(u64),
}

/// One stack entry, with the bookkeeping that makes the memo correct.
struct Slot {
    value: Value,
    /// Nesting depth of `value` (scalars are 0).
    depth: usize,
    /// Unique id, so a memo entry can tell its container apart from others.
    serial: u64,
    /// Memo ids that refer to this (mutable) container.
    memo_ids: Vec<u32>,
}

/// The pickle stack machine.
struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of the opcode being executed, for error messages.
    op_pos: usize,
    stack: Vec<Slot>,
    marks: Vec<usize>,
    memo: HashMap<u32, Memo>,
    next_serial: u64,
    /// What the memo has copied so far (see [`MAX_MEMO_COPY`]).
    copied: usize,
}

impl<'a> Machine<'a> {
    fn new(data: &'a [u8], start: usize) -> Self {
        Machine {
            data,
            pos: start,
            op_pos: start,
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            next_serial: 0,
            copied: 0,
        }
    }

    fn malformed(&self, reason: impl Into<String>) -> ConvertError {
        ConvertError::PickleMalformed {
            offset: self.op_pos,
            reason: reason.into(),
        }
    }

    // ----- reading the byte stream -----

    fn take(&mut self, n: usize) -> Result<&'a [u8], ConvertError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
            .ok_or(ConvertError::PickleTruncated {
                offset: self.data.len().min(self.pos),
            })?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn take_array<const N: usize>(&mut self) -> Result<[u8; N], ConvertError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, ConvertError> {
        Ok(self.take_array::<1>()?[0])
    }

    fn u16(&mut self) -> Result<u16, ConvertError> {
        Ok(u16::from_le_bytes(self.take_array()?))
    }

    fn u32(&mut self) -> Result<u32, ConvertError> {
        Ok(u32::from_le_bytes(self.take_array()?))
    }

    /// A `\n`-terminated ASCII line (the arguments of `GLOBAL`).
    fn line(&mut self) -> Result<&'a str, ConvertError> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(ConvertError::PickleTruncated {
                offset: self.data.len(),
            })?;
        let line = self.take(len)?;
        self.pos += 1; // the newline
        std::str::from_utf8(line).map_err(|_| self.malformed("GLOBAL argument is not UTF-8"))
    }

    // ----- stack helpers -----

    fn push(&mut self, value: Value, depth: usize) -> Result<(), ConvertError> {
        if depth > MAX_DEPTH {
            return Err(self.malformed(format!("values nested deeper than {MAX_DEPTH}")));
        }
        let serial = self.next_serial;
        self.next_serial += 1;
        self.stack.push(Slot {
            value,
            depth,
            serial,
            memo_ids: Vec::new(),
        });
        Ok(())
    }

    /// Charges a copy of `value` against [`MAX_MEMO_COPY`].
    fn charge_copy(&mut self, value: &Value) -> Result<(), ConvertError> {
        charge(&mut self.copied, value).map_err(|m| self.malformed(m))
    }

    /// Removes the top slot, completing the memo entries of a container.
    fn finish_slot(&mut self, slot: Slot) -> Result<(Value, usize), ConvertError> {
        for id in &slot.memo_ids {
            if let Some(Memo::Building(serial)) = self.memo.get(id) {
                if *serial == slot.serial {
                    self.charge_copy(&slot.value)?;
                    self.memo
                        .insert(*id, Memo::Done(slot.value.clone(), slot.depth));
                }
            }
        }
        Ok((slot.value, slot.depth))
    }

    fn pop(&mut self) -> Result<(Value, usize), ConvertError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.malformed("stack underflow"));
        }
        let slot = self
            .stack
            .pop()
            .ok_or_else(|| self.malformed("stack underflow"))?;
        self.finish_slot(slot)
    }

    /// Pops everything above the most recent `MARK`, in push order.
    fn pop_mark(&mut self) -> Result<(Vec<Value>, usize), ConvertError> {
        let mark = self
            .marks
            .pop()
            .ok_or_else(|| self.malformed("no MARK on the stack"))?;
        let slots = self.stack.split_off(mark);
        let mut depth = 0;
        let mut values = Vec::with_capacity(slots.len());
        for slot in slots {
            let (value, d) = self.finish_slot(slot)?;
            depth = depth.max(d);
            values.push(value);
        }
        Ok((values, depth))
    }

    fn top_mut(&mut self) -> Result<&mut Slot, ConvertError> {
        let floor = self.marks.last().copied().unwrap_or(0);
        if self.stack.len() <= floor {
            return Err(self.malformed("stack underflow"));
        }
        let at = self.op_pos;
        self.stack.last_mut().ok_or(ConvertError::PickleMalformed {
            offset: at,
            reason: "stack underflow".into(),
        })
    }

    fn push_tuple(&mut self, items: Vec<Value>, depth: usize) -> Result<(), ConvertError> {
        let depth = if items.is_empty() { 0 } else { depth + 1 };
        self.push(Value::Tuple(items), depth)
    }

    fn pop_n_tuple(&mut self, n: usize) -> Result<(), ConvertError> {
        let mut items = Vec::with_capacity(n);
        let mut depth = 0;
        for _ in 0..n {
            let (v, d) = self.pop()?;
            depth = depth.max(d);
            items.push(v);
        }
        items.reverse();
        self.push_tuple(items, depth)
    }

    // ----- memo -----

    fn memo_put(&mut self, id: u32) -> Result<(), ConvertError> {
        let slot = self.top_mut()?;
        let entry = match slot.value {
            // Containers are still mutable: record the entry when they leave
            // the stack.
            Value::List(_) | Value::Dict(_) => {
                slot.memo_ids.push(id);
                Memo::Building(slot.serial)
            }
            _ => {
                let (value, depth) = (slot.value.clone(), slot.depth);
                self.charge_copy(&value)?;
                Memo::Done(value, depth)
            }
        };
        self.memo.insert(id, entry);
        Ok(())
    }

    fn memo_get(&mut self, id: u32) -> Result<(), ConvertError> {
        let (value, depth) = match self.memo.get(&id) {
            Some(Memo::Done(value, depth)) => {
                // The value is borrowed from the memo: charge the counter alone.
                let charged = charge(&mut self.copied, value);
                charged.map_err(|m| self.malformed(m))?;
                (value.clone(), *depth)
            }
            Some(Memo::Building(_)) => {
                return Err(self.malformed(format!(
                    "memo {id} refers to a container that is still being built \
                     (self-referential structures are not supported)"
                )))
            }
            None => return Err(self.malformed(format!("memo {id} was never stored"))),
        };
        self.push(value, depth)
    }

    // ----- the machine -----

    fn run(&mut self) -> Result<Value, ConvertError> {
        loop {
            self.op_pos = self.pos;
            let code = self.u8()?;
            if code == b'.' {
                return self.stop();
            }
            self.step(code)?;
        }
    }

    fn stop(&mut self) -> Result<Value, ConvertError> {
        if !self.marks.is_empty() || self.stack.len() != 1 {
            return Err(self.malformed(format!(
                "STOP with {} value(s) and {} mark(s) on the stack",
                self.stack.len(),
                self.marks.len()
            )));
        }
        Ok(self.pop()?.0)
    }

    fn step(&mut self, code: u8) -> Result<(), ConvertError> {
        match code {
            0x80 => {
                let version = self.u8()?;
                if version != 2 {
                    return Err(
                        self.malformed(format!("pickle protocol {version} (only 2 is supported)"))
                    );
                }
            }
            b'(' => self.marks.push(self.stack.len()),
            b'N' => self.push(Value::None, 0)?,
            0x88 => self.push(Value::Bool(true), 0)?,
            0x89 => self.push(Value::Bool(false), 0)?,
            b'J' => {
                let v = i32::from_le_bytes(self.take_array()?);
                self.push(Value::Int(v.into()), 0)?;
            }
            b'K' => {
                let v = self.u8()?;
                self.push(Value::Int(v.into()), 0)?;
            }
            b'M' => {
                let v = self.u16()?;
                self.push(Value::Int(v.into()), 0)?;
            }
            0x8a => self.long1()?,
            b'G' => {
                let v = f64::from_be_bytes(self.take_array()?);
                self.push(Value::Float(v), 0)?;
            }
            b'X' => self.binunicode()?,
            b')' => self.push(Value::Tuple(Vec::new()), 0)?,
            b't' => {
                let (items, depth) = self.pop_mark()?;
                self.push_tuple(items, depth)?;
            }
            0x85 => self.pop_n_tuple(1)?,
            0x86 => self.pop_n_tuple(2)?,
            0x87 => self.pop_n_tuple(3)?,
            b']' => self.push(Value::List(Vec::new()), 0)?,
            b'}' => self.push(Value::Dict(Vec::new()), 0)?,
            b'a' => {
                let item = self.pop()?;
                self.extend_list(vec![item.0], item.1)?;
            }
            b'e' => {
                let (items, depth) = self.pop_mark()?;
                self.extend_list(items, depth)?;
            }
            b's' => {
                let (value, vd) = self.pop()?;
                let (key, kd) = self.pop()?;
                self.extend_dict(vec![key, value], kd.max(vd))?;
            }
            b'u' => {
                let (items, depth) = self.pop_mark()?;
                self.extend_dict(items, depth)?;
            }
            b'q' => {
                let id = self.u8()?;
                self.memo_put(id.into())?;
            }
            b'r' => {
                let id = self.u32()?;
                self.memo_put(id)?;
            }
            b'h' => {
                let id = self.u8()?;
                self.memo_get(id.into())?;
            }
            b'j' => {
                let id = self.u32()?;
                self.memo_get(id)?;
            }
            b'c' => self.global()?,
            b'R' => self.reduce()?,
            b'b' => self.build()?,
            b'Q' => {
                let (pid, depth) = self.pop()?;
                self.push(Value::PersistentId(Box::new(pid)), depth + 1)?;
            }
            _ => {
                return Err(ConvertError::PickleOpcode {
                    name: opcode_name(code),
                    code,
                    offset: self.op_pos,
                })
            }
        }
        Ok(())
    }

    /// `LONG1`: a little-endian two's-complement integer of `n` bytes.
    fn long1(&mut self) -> Result<(), ConvertError> {
        let n = usize::from(self.u8()?);
        if n > 16 {
            return Err(self.malformed(format!("LONG1 of {n} bytes does not fit in 128 bits")));
        }
        let bytes = self.take(n)?;
        let mut buf = [0u8; 16];
        buf[..n].copy_from_slice(bytes);
        // Sign-extend from the top byte.
        if bytes.last().is_some_and(|&b| b & 0x80 != 0) {
            buf[n..].fill(0xff);
        }
        self.push(Value::Int(i128::from_le_bytes(buf)), 0)
    }

    fn binunicode(&mut self) -> Result<(), ConvertError> {
        let len = usize::try_from(self.u32()?).map_err(|_| self.malformed("string too long"))?;
        let bytes = self.take(len)?;
        let s = std::str::from_utf8(bytes)
            .map_err(|_| self.malformed("BINUNICODE is not valid UTF-8"))?;
        self.push(Value::Str(s.to_owned()), 0)
    }

    fn extend_list(&mut self, items: Vec<Value>, depth: usize) -> Result<(), ConvertError> {
        let slot = self.top_mut()?;
        let Value::List(list) = &mut slot.value else {
            let kind = slot.value.kind();
            return Err(self.malformed(format!("APPEND(S) on a {kind}")));
        };
        list.extend(items);
        slot.depth = slot.depth.max(depth + 1);
        self.check_top_depth()
    }

    fn extend_dict(&mut self, items: Vec<Value>, depth: usize) -> Result<(), ConvertError> {
        if !items.len().is_multiple_of(2) {
            return Err(self.malformed("SETITEMS with an odd number of values"));
        }
        let slot = self.top_mut()?;
        let Value::Dict(dict) = &mut slot.value else {
            let kind = slot.value.kind();
            return Err(self.malformed(format!("SETITEM(S) on a {kind}")));
        };
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            dict.push((k, v));
        }
        slot.depth = slot.depth.max(depth + 1);
        self.check_top_depth()
    }

    fn check_top_depth(&self) -> Result<(), ConvertError> {
        match self.stack.last() {
            Some(slot) if slot.depth > MAX_DEPTH => {
                Err(self.malformed(format!("values nested deeper than {MAX_DEPTH}")))
            }
            _ => Ok(()),
        }
    }

    fn global(&mut self) -> Result<(), ConvertError> {
        let module = self.line()?;
        let name = self.line()?;
        let global = Global::resolve(module, name).ok_or_else(|| ConvertError::PickleGlobal {
            module: module.to_owned(),
            name: name.to_owned(),
            offset: self.op_pos,
        })?;
        self.push(Value::Global(global), 0)
    }

    /// `REDUCE`: `func(*args)`, interpreted for the allow-listed globals only.
    fn reduce(&mut self) -> Result<(), ConvertError> {
        let (args, depth) = self.pop()?;
        let (func, _) = self.pop()?;
        let Value::Tuple(args) = args else {
            return Err(self.malformed(format!(
                "REDUCE arguments are a {}, not a tuple",
                args.kind()
            )));
        };
        let Value::Global(func) = func else {
            return Err(self.malformed(format!("REDUCE on a {}, not a global", func.kind())));
        };
        match func {
            // `OrderedDict.__reduce__` pickles as `OrderedDict()` followed by
            // SETITEMS, so only the empty call occurs.
            Global::OrderedDict if args.is_empty() => self.push(Value::Dict(Vec::new()), 0),
            Global::RebuildTensorV2 => self.push(Value::Call { func, args }, depth + 1),
            _ => {
                let (module, name) = func.path();
                Err(self.malformed(format!(
                    "call of {module}.{name} with {} argument(s) is not supported",
                    args.len()
                )))
            }
        }
    }

    /// `BUILD`: sets object state. PyTorch uses it only to attach `_metadata`
    /// to the state dict, which a converter does not need, so it is dropped.
    fn build(&mut self) -> Result<(), ConvertError> {
        let (_state, _) = self.pop()?;
        let slot = self.top_mut()?;
        match slot.value {
            Value::Dict(_) => Ok(()),
            _ => {
                let kind = slot.value.kind();
                Err(self.malformed(format!("BUILD on a {kind}")))
            }
        }
    }
}

/// Adds the cost of copying `value` to `copied`, or says why that goes
/// over [`MAX_MEMO_COPY`].
fn charge(copied: &mut usize, value: &Value) -> Result<(), String> {
    let left = MAX_MEMO_COPY - *copied;
    let cost = value.copy_cost(left);
    if cost > left {
        return Err(format!(
            "the memo copies more than {MAX_MEMO_COPY} values and string bytes"
        ));
    }
    *copied += cost;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Helpers to write pickle bytes by hand.
    fn binunicode(s: &str) -> Vec<u8> {
        let mut v = vec![b'X'];
        v.extend_from_slice(&u32::try_from(s.len()).expect("short").to_le_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    }

    fn read(bytes: &[u8]) -> Result<Value, ConvertError> {
        let (v, end) = read_pickle(bytes, 0)?;
        assert_eq!(end, bytes.len());
        Ok(v)
    }

    #[test]
    fn scalars_and_long1() {
        // The PyTorch magic number, as torch writes it.
        let mut p = vec![0x80, 2, 0x8a, 10];
        p.extend_from_slice(&0x1950a86a20f9469cfc6c_i128.to_le_bytes()[..10]);
        p.push(b'.');
        assert_eq!(read(&p).unwrap(), Value::Int(0x1950a86a20f9469cfc6c));

        // Negative LONG1 and BININT, zero-length LONG1.
        let p = [
            0x80, 2, b'(', 0x8a, 1, 0xff, b'J', 0xfe, 0xff, 0xff, 0xff, 0x8a, 0, b't', b'.',
        ];
        assert_eq!(
            read(&p).unwrap(),
            Value::Tuple(vec![Value::Int(-1), Value::Int(-2), Value::Int(0)])
        );

        let p = [0x80, 2, b'M', 0xe9, 0x03, b'.'];
        assert_eq!(read(&p).unwrap(), Value::Int(1001));
    }

    #[test]
    fn dict_with_memo_and_nested_containers() {
        // {'a': [1, 2], 'b': (True, None, 'a')} with the memo used for 'a'.
        let mut p = vec![0x80, 2, b'}', b'q', 0, b'('];
        p.extend(binunicode("a"));
        p.extend([b'q', 1, b']', b'q', 2, b'(', b'K', 1, b'K', 2, b'e']);
        p.extend(binunicode("b"));
        p.extend([0x88, b'N', b'h', 1, 0x87, b'u', b'.']);
        let v = read(&p).unwrap();
        assert_eq!(
            v,
            Value::Dict(vec![
                (
                    Value::Str("a".into()),
                    Value::List(vec![Value::Int(1), Value::Int(2)])
                ),
                (
                    Value::Str("b".into()),
                    Value::Tuple(vec![Value::Bool(true), Value::None, Value::Str("a".into())])
                ),
            ])
        );
    }

    #[test]
    fn memo_of_container_sees_later_items() {
        // `l = []; l.append(7); ((l,), l)`: the list is memoized while empty,
        // filled, moved into a tuple, then fetched from the memo. The memo
        // copy must include the item appended after BINPUT.
        let p = [
            0x80, 2, b']', b'q', 0, b'K', 7, b'a', 0x85, b'h', 0, 0x86, b'.',
        ];
        let l = Value::List(vec![Value::Int(7)]);
        assert_eq!(
            read(&p).unwrap(),
            Value::Tuple(vec![Value::Tuple(vec![l.clone()]), l])
        );

        // Fetching a container that is still on the stack (being filled) is
        // what a self-referential structure looks like: refused.
        let p = [0x80, 2, b']', b'q', 0, b'h', 0, b'a', b'.'];
        assert!(matches!(
            read(&p),
            Err(ConvertError::PickleMalformed { .. })
        ));
    }

    #[test]
    fn ordered_dict_rebuild_and_persistent_id() {
        let mut p = vec![0x80, 2, b'c'];
        p.extend_from_slice(b"collections\nOrderedDict\n");
        p.extend([b'q', 0, b')', b'R', b'(']);
        p.extend(binunicode("w"));
        p.push(b'c');
        p.extend_from_slice(b"torch._utils\n_rebuild_tensor_v2\n");
        p.extend([b'(', b'(']);
        p.extend(binunicode("storage"));
        p.push(b'c');
        p.extend_from_slice(b"torch\nFloatStorage\n");
        p.extend(binunicode("0"));
        p.extend(binunicode("cpu"));
        p.extend([
            b'K', 4, b'N', b't', b'Q', b'K', 0, b'K', 4, 0x85, b'K', 1, 0x85, 0x89,
        ]);
        // backward hooks: OrderedDict() via the memo.
        p.extend([b'h', 0, b')', b'R', b't', b'R', b'u']);
        // BUILD with a `_metadata`-like state is accepted and dropped.
        p.extend([b'}', b'b', b'.']);
        let v = read(&p).unwrap();
        let entries = v.as_dict().unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0.as_str(), Some("w"));
        let Value::Call { func, args } = &entries[0].1 else {
            panic!("expected a call, got {:?}", entries[0].1)
        };
        assert_eq!(*func, Global::RebuildTensorV2);
        assert_eq!(args.len(), 6);
        let Value::PersistentId(pid) = &args[0] else {
            panic!("expected a persistent id")
        };
        let pid = pid.as_tuple().unwrap();
        assert_eq!(pid[1], Value::Global(Global::FloatStorage));
        assert_eq!(pid[4], Value::Int(4));
        assert_eq!(args[2], Value::Tuple(vec![Value::Int(4)]));
        assert_eq!(args[5], Value::Dict(vec![]));
    }

    #[test]
    fn refuses_unsupported_opcodes_by_name() {
        // INST would instantiate an arbitrary class.
        let mut p = vec![0x80, 2, b'('];
        p.extend_from_slice(b"ios\nsystem\n");
        let err = read_pickle(&[&p[..], b"i"].concat(), 0).unwrap_err();
        match err {
            ConvertError::PickleOpcode { name, code, offset } => {
                assert_eq!(name, "INST");
                assert_eq!(code, b'i');
                assert_eq!(offset, 3);
            }
            other => panic!("unexpected error {other:?}"),
        }
        // STACK_GLOBAL (protocol 4) is refused too, and the message names it.
        let err = read_pickle(&[0x80, 2, 0x93], 0).unwrap_err();
        assert!(err.to_string().contains("STACK_GLOBAL"), "{err}");
        // So is a protocol other than 2.
        let err = read_pickle(&[0x80, 4, b'N', b'.'], 0).unwrap_err();
        assert!(err.to_string().contains("protocol 4"), "{err}");
    }

    #[test]
    fn refuses_globals_outside_the_allow_list() {
        let mut p = vec![0x80, 2, b'c'];
        p.extend_from_slice(b"os\nsystem\n");
        p.push(b'.');
        match read_pickle(&p, 0).unwrap_err() {
            ConvertError::PickleGlobal {
                module,
                name,
                offset,
            } => {
                assert_eq!(
                    (module.as_str(), name.as_str(), offset),
                    ("os", "system", 2)
                );
            }
            other => panic!("unexpected error {other:?}"),
        }
        // An allowed global cannot be called in unsupported ways.
        let mut p = vec![0x80, 2, b'c'];
        p.extend_from_slice(b"torch\nFloatStorage\n");
        p.extend([b')', b'R', b'.']);
        assert!(matches!(
            read(&p),
            Err(ConvertError::PickleMalformed { .. })
        ));
    }

    #[test]
    fn a_pickle_that_doubles_through_the_memo_is_refused() {
        // x = 1; then n times: x = (x, x), through BINGET/BINPUT, every x
        // kept in one tuple: 2^60 values from 430 bytes without the budget.
        let doubling = |n: usize| {
            let mut p = vec![0x80, 2, b'(', b'K', 1, b'q', 0];
            for _ in 0..n {
                p.extend([b'h', 0, b'h', 0, 0x86, b'q', 0]);
            }
            p.extend([b't', b'.']);
            p
        };
        let err = read_pickle(&doubling(60), 0).unwrap_err();
        assert!(
            err.to_string().contains("the memo copies more than"),
            "{err}"
        );
        // A few doublings are fine.
        let (value, _) = read_pickle(&doubling(4), 0).unwrap();
        assert!(matches!(value, Value::Tuple(items) if items.len() == 5));
    }

    #[test]
    fn malformed_streams_are_errors_not_panics() {
        // Truncated argument, missing STOP, stack underflow, bad memo, odd SETITEMS.
        let cases: [&[u8]; 7] = [
            &[0x80, 2, b'J', 1, 2],
            &[0x80, 2, b'N'],
            &[0x80, 2, b'a', b'.'],
            &[0x80, 2, b'h', 9, b'.'],
            &[0x80, 2, b'}', b'(', b'N', b'u', b'.'],
            &[0x80, 2, b'N', b'N', b'.'],
            &[0x80, 2, b'(', b'N', 0x85, b'.'],
        ];
        for case in cases {
            assert!(read_pickle(case, 0).is_err(), "{case:?} should fail");
        }
    }

    #[test]
    fn refuses_excessive_nesting() {
        let mut p = vec![0x80, 2, b'N'];
        p.extend(std::iter::repeat_n(0x85, MAX_DEPTH + 1));
        p.push(b'.');
        assert!(matches!(
            read(&p),
            Err(ConvertError::PickleMalformed { .. })
        ));
    }

    #[test]
    fn reads_consecutive_pickles() {
        let p = [0x80, 2, b'K', 1, b'.', 0x80, 2, b'K', 2, b'.'];
        let (a, end) = read_pickle(&p, 0).unwrap();
        let (b, end2) = read_pickle(&p, end).unwrap();
        assert_eq!((a, end, b, end2), (Value::Int(1), 5, Value::Int(2), 10));
    }
}
