//! Compiling a user's script: the pre-pass, then sieve-rs, with errors mapped back to the
//! user's own line and column.

use crate::lexer::position;
use crate::prepass::{self, Call, FN_OUTCOME, FN_REASON};
use sieve::compiler::ErrorType;
use sieve::{Compiler, FunctionMap, Sieve};
use std::panic::catch_unwind;
use std::sync::{Arc, OnceLock};

/// Largest script accepted, in bytes.
pub const MAX_SCRIPT_BYTES: usize = 256 * 1024;

/// A compiled script: cheap to clone, shareable between threads.
#[derive(Debug, Clone)]
pub struct Script {
    pub(crate) sieve: Arc<Sieve>,
    pub(crate) calls: Arc<Vec<Call>>,
}

/// Why a script does not compile, at the user's own line and column (both from 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct CompileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

fn compiler() -> &'static Compiler {
    static COMPILER: OnceLock<Compiler> = OnceLock::new();
    COMPILER.get_or_init(|| {
        // Namespaced names: a script variable can never shadow them in an expression.
        let mut functions = FunctionMap::new()
            .with_external_function("imipd.outcome", FN_OUTCOME, 0)
            .with_external_function("imipd.reason", FN_REASON, 0);
        Compiler::new()
            .with_max_script_size(MAX_SCRIPT_BYTES * 2)
            .with_max_string_size(16 * 1024)
            .with_max_nested_blocks(32)
            .with_max_nested_tests(32)
            .register_functions(&mut functions)
    })
}

/// Compiles a script. Never panics: should the compiler fail internally, that is an error
/// at line 1.
pub fn compile(source: &str) -> Result<Script, CompileError> {
    catch_unwind(|| compile_checked(source)).unwrap_or_else(|_| {
        Err(CompileError {
            line: 1,
            column: 1,
            message: "the Sieve compiler failed on this script; simplify it or report it".into(),
        })
    })
}

fn compile_checked(source: &str) -> Result<Script, CompileError> {
    if source.len() > MAX_SCRIPT_BYTES {
        return Err(CompileError {
            line: 1,
            column: 1,
            message: format!(
                "script is {} bytes; the limit is {MAX_SCRIPT_BYTES}",
                source.len()
            ),
        });
    }
    let prepared = prepass::prepare(source)?;
    match compiler().compile(prepared.text.as_bytes()) {
        Ok(sieve) => Ok(Script {
            sieve: Arc::new(sieve),
            calls: Arc::new(prepared.calls),
        }),
        Err(e) => {
            let generated = offset_of(&prepared.text, e.line_num(), e.line_pos());
            let mut offset = prepared.original_offset(generated);
            // sieve-rs places an unknown command at the start of its block; point at it.
            if let ErrorType::UnexpectedToken { expected, found } = e.error_type()
                && expected.as_ref() == "command"
                && let Some(at) = prepared.command_offset(found)
            {
                offset = at;
            }
            let (line, column) = position(source, offset);
            Err(CompileError {
                line,
                column,
                message: message(&e),
            })
        }
    }
}

/// sieve-rs's message without its own position, which is in the rewritten text.
fn message(e: &sieve::compiler::CompileError) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(cut) => full[..cut].to_string(),
        None => full,
    }
}

/// Byte offset of sieve-rs's 1-based line and 1-based byte column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(p, _)| p + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
}
