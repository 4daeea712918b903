//! iden3's binary container shared by .zkey and .wtns: a 4-byte magic, a u32
//! version, a u32 section count, then sections of (u32 type, u64 size, bytes),
//! all little-endian. This reads the table and bounds-checks every section.

/// A bounds-checked little-endian cursor over one section.
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub pos: usize,
    /// Where the section starts in the file, for messages.
    pub base: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8], base: usize) -> Self {
        Reader { bytes, pos: 0, base }
    }
    pub fn take(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end {
            Some(end) => {
                let s = &self.bytes[self.pos..end];
                self.pos = end;
                Ok(s)
            }
            None => Err(format!("truncated at byte {}: wanted {n} more bytes, {} left", self.base + self.pos, self.bytes.len() - self.pos)),
        }
    }
    pub fn u32(&mut self) -> std::result::Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn u64(&mut self) -> std::result::Result<u64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    /// 32 bytes as four little-endian u64 limbs.
    pub fn limbs(&mut self) -> std::result::Result<[u64; 4], String> {
        Ok(limbs_le(self.take(32)?))
    }
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }
}

pub fn limbs_le(b: &[u8]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (i, limb) in out.iter_mut().enumerate() {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i * 8..i * 8 + 8]);
        *limb = u64::from_le_bytes(a);
    }
    out
}

pub struct Section {
    pub kind: u32,
    pub start: usize,
    pub len: usize,
}

pub struct BinFile<'a> {
    pub bytes: &'a [u8],
    #[allow(dead_code)]
    pub version: u32,
    pub sections: Vec<Section>,
}

impl<'a> BinFile<'a> {
    /// Parses the header and section table; errors are plain messages the caller tags.
    pub fn parse(bytes: &'a [u8], magic: &[u8; 4], max_version: u32) -> std::result::Result<Self, String> {
        let mut r = Reader::new(bytes, 0);
        let m = r.take(4).map_err(|_| format!("{} bytes is too short for a header", bytes.len()))?;
        if m != magic {
            return Err(format!("bad magic {:?}, expected {:?}", String::from_utf8_lossy(m), String::from_utf8_lossy(magic)));
        }
        let version = r.u32()?;
        if version == 0 || version > max_version {
            return Err(format!("unsupported version {version}"));
        }
        let n = r.u32()?;
        if n > 64 {
            return Err(format!("implausible section count {n}"));
        }
        let mut sections = Vec::with_capacity(n as usize);
        for i in 0..n {
            let kind = r.u32()?;
            let size = r.u64()?;
            let start = r.pos;
            if size > r.remaining() as u64 {
                return Err(format!("section {i} (type {kind}) claims {size} bytes at byte {start}, only {} left", r.remaining()));
            }
            r.take(size as usize)?;
            sections.push(Section { kind, start, len: size as usize });
        }
        Ok(BinFile { bytes, version, sections })
    }

    /// The one section of a type: a reader over it, or an error if absent or repeated.
    pub fn section(&self, kind: u32) -> std::result::Result<Reader<'a>, String> {
        let mut found = self.sections.iter().filter(|s| s.kind == kind);
        let s = found.next().ok_or_else(|| format!("section {kind} is missing"))?;
        if found.next().is_some() {
            return Err(format!("section {kind} appears more than once"));
        }
        Ok(Reader::new(&self.bytes[s.start..s.start + s.len], s.start))
    }
}
