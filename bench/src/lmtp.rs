use anyhow::{Result, bail};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};

pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    pub fn open(addr: SocketAddr) -> Result<Conn> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let mut c = Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        };
        c.expect("220")?;
        c.writer.write_all(b"LHLO bench.example.net\r\n")?;
        c.expect("250")?;
        Ok(c)
    }

    fn reply(&mut self) -> Result<String> {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line)? == 0 {
                bail!("server closed the connection after {all:?}");
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return Ok(all);
            }
        }
    }

    fn expect(&mut self, code: &str) -> Result<String> {
        let r = self.reply()?;
        if !r.starts_with(code) {
            bail!("expected {code}, got {r:?}");
        }
        Ok(r)
    }

    /// One pipelined transaction; the message must already be dot-stuffed and end in CRLF.
    pub fn send(&mut self, from: &str, rcpt: &str, message: &[u8]) -> Result<bool> {
        self.writer
            .write_all(format!("MAIL FROM:<{from}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n").as_bytes())?;
        self.expect("250")?;
        self.expect("250")?;
        self.expect("354")?;
        self.writer.write_all(message)?;
        self.writer.write_all(b".\r\n")?;
        Ok(self.reply()?.starts_with("250"))
    }

    pub fn quit(mut self) -> Result<()> {
        self.writer.write_all(b"QUIT\r\n")?;
        self.reply()?;
        Ok(())
    }
}
