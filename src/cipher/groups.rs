//! Named groups of TLS key exchange (IANA "Supported Groups"), with their size in bits: the
//! probe offers them, the verdict weighs them, reports name them. Table only, no IO.

/// (code, name, size in bits). X25519 keys are 256-bit strings (RFC 7748): the 256-bit class.
const GROUPS: &[(u16, &str, u32)] = &[
    (0x0001, "sect163k1", 163),
    (0x0002, "sect163r1", 163),
    (0x0003, "sect163r2", 163),
    (0x0004, "sect193r1", 193),
    (0x0005, "sect193r2", 193),
    (0x0006, "sect233k1", 233),
    (0x0007, "sect233r1", 233),
    (0x0008, "sect239k1", 239),
    (0x000F, "secp160k1", 160),
    (0x0010, "secp160r1", 160),
    (0x0011, "secp160r2", 160),
    (0x0012, "secp192k1", 192),
    (0x0013, "secp192r1", 192),
    (0x0014, "secp224k1", 224),
    (0x0015, "secp224r1", 224),
    (0x0016, "secp256k1", 256),
    (0x0017, "secp256r1", 256),
    (0x0018, "secp384r1", 384),
    (0x0019, "secp521r1", 521),
    (0x001A, "brainpoolP256r1", 256),
    (0x001B, "brainpoolP384r1", 384),
    (0x001C, "brainpoolP512r1", 512),
    (0x001D, "x25519", 256),
    (0x001E, "x448", 448),
];

pub fn group_name(code: u16) -> Option<&'static str> {
    GROUPS.iter().find(|g| g.0 == code).map(|g| g.1)
}

pub fn group_bits(code: u16) -> Option<u32> {
    GROUPS.iter().find(|g| g.0 == code).map(|g| g.2)
}

/// `secp256r1 (0x0017)`, or the bare code.
pub fn describe_group(code: u16) -> String {
    match group_name(code) {
        Some(n) => format!("{n} (0x{code:04X})"),
        None => format!("0x{code:04X}"),
    }
}
