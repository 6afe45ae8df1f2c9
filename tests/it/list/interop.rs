//! Sluice and a real Valkey 8 (Redis 7.2's lists) given the same random list commands: every
//! reply, and `OBJECT ENCODING` after each, must be the same. What keeps the listpack and
//! quicklist model (pushes, pops, inserts that split nodes, large elements, trims) honest.

use anyhow::{Result, bail};
use sluice_tests::TestServer;
use sluice_tests::real_server::RealServer;

/// A small deterministic generator (xorshift64*), so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.below(words.len() as u64) as usize]
    }

    /// An element: small and large integers, short strings, strings near a node's size and
    /// over it.
    fn element(&mut self) -> String {
        match self.below(20) {
            0..=3 => (self.below(10_000) as i64 - 5_000).to_string(),
            4..=5 => (self.next() >> 20).to_string(),
            6..=9 => "e".repeat(1 + self.below(60) as usize),
            10..=16 => {
                let size = [100, 500, 1000, 1500, 3000][self.below(5) as usize];
                self.pick(&["a", "b", "c"]).repeat(size)
            }
            _ => "z".repeat([8190, 8200, 9000][self.below(3) as usize]),
        }
    }

    fn index(&mut self) -> String {
        (self.below(25) as i64 - 12).to_string()
    }

    fn command(&mut self) -> Vec<String> {
        let ends = ["LEFT", "RIGHT"];
        let mut cmd: Vec<String> = match self.below(12) {
            0..=2 => {
                let mut push = vec![self.pick(&["RPUSH", "LPUSH"]).into(), "l".into()];
                push.extend((0..=self.below(5)).map(|_| self.element()));
                push
            }
            3 => vec![
                self.pick(&["LPOP", "RPOP"]).into(),
                "l".into(),
                self.below(9).to_string(),
            ],
            4 => vec![self.pick(&["LPOP", "RPOP"]).into(), "l".into()],
            5 => {
                let pivot = if self.below(3) == 0 {
                    self.element()
                } else {
                    "PIVOT".into()
                };
                let place = self.pick(&["BEFORE", "AFTER"]);
                vec![
                    "LINSERT".into(),
                    "l".into(),
                    place.into(),
                    pivot,
                    self.element(),
                ]
            }
            6 => vec!["LSET".into(), "l".into(), self.index(), self.element()],
            7 => {
                let which = if self.below(2) == 0 {
                    self.element()
                } else {
                    "PIVOT".into()
                };
                vec!["LREM".into(), "l".into(), self.index(), which]
            }
            8 => vec!["LTRIM".into(), "l".into(), self.index(), self.index()],
            9 => {
                let to = self.pick(&["l", "m"]);
                vec![
                    "LMOVE".into(),
                    "l".into(),
                    to.into(),
                    self.pick(&ends).into(),
                    self.pick(&ends).into(),
                ]
            }
            10 => vec![
                "LMOVE".into(),
                "m".into(),
                "l".into(),
                self.pick(&ends).into(),
                self.pick(&ends).into(),
            ],
            _ => vec!["RPUSH".into(), "l".into(), "PIVOT".into()],
        };
        cmd.shrink_to_fit();
        cmd
    }
}

#[test]
#[ignore = "needs a Valkey 8 server at $SLUICE_VALKEY_SERVER (.ci/run fetches it)"]
fn random_list_commands_answer_and_encode_as_in_valkey() -> Result<()> {
    let valkey = RealServer::valkey()?;
    let server = TestServer::start()?;
    let (mut there, mut here) = (valkey.raw()?, server.raw()?);
    for seed in 1..=30u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for raw in [&mut there, &mut here] {
            raw.cmd(&["FLUSHALL"])?;
        }
        for step in 0..300 {
            let cmd = rng.command();
            let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
            let mut answers = Vec::new();
            for raw in [&mut there, &mut here] {
                answers.push([
                    raw.cmd(&args)?,
                    raw.cmd(&["OBJECT", "ENCODING", "l"])?,
                    raw.cmd(&["OBJECT", "ENCODING", "m"])?,
                ]);
            }
            if answers[0] != answers[1] {
                let shown: Vec<String> =
                    args.iter().map(|a| a.chars().take(12).collect()).collect();
                bail!(
                    "seed {seed}, step {step}: {shown:?}\n  valkey: {:?}\n  sluice: {:?}",
                    answers[0],
                    answers[1]
                );
            }
        }
    }
    Ok(())
}
