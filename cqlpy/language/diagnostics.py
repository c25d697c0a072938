"""Syntax error messages in Cassandra's style, with the offending source line and a caret.

    line 1:10 mismatched input 'frm' expecting FROM
    SELECT * frm t
             ^

Lines and columns are 1-based and point at the start of the offending token (for an unexpected end
of input: just after the last token).  Expected-token lists name keywords and punctuation as they are
written, fold every identifier-like terminal into "identifier", and are capped.
"""
from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from ..errors import SyntaxException
from .grammar import keyword_terminals, reserved_keywords, unreserved_keywords

MAX_EXPECTED = 8          # longer expected-token lists end with "..."
MAX_CONTEXT = 100         # longest source excerpt shown under the message
MAX_TOKEN_TEXT = 40       # longest token text quoted in a message

_PUNCTUATION = {
    "LPAR": "(", "RPAR": ")", "LSQB": "[", "RSQB": "]", "LBRACE": "{", "RBRACE": "}", "COMMA": ",",
    "SEMICOLON": ";", "DOT": ".", "RANGE": "..", "COLON": ":", "QMARK": "?", "STAR": "*", "PLUS": "+",
    "MINUS": "-", "PLUSEQ": "+=", "MINUSEQ": "-=", "EQUAL": "=", "NOTEQUAL": "!=", "LESSTHAN": "<",
    "LESSEQUAL": "<=", "MORETHAN": ">", "MOREEQUAL": ">=",
}
_LITERALS = {
    "IDENT": "identifier", "QUOTED_NAME": "identifier", "STRING_LITERAL": "string",
    "INTEGER": "integer", "FLOAT": "float", "UUID": "uuid", "HEXNUMBER": "blob", "DURATION": "duration",
}
_END = "$END"


def display_terminal(name: str) -> str:
    """How a terminal is named in messages: ``K_FROM`` -> ``FROM``, ``LPAR`` -> ``'('``."""
    if name in _PUNCTUATION:
        return f"'{_PUNCTUATION[name]}'"
    if name in _LITERALS:
        return _LITERALS[name]
    if name == _END:
        return "end of input"
    if name.startswith("K_"):
        return name[2:]
    return name


# Literal terminals folded into "constant" when several are expected at once.
_CONSTANTS = {"STRING_LITERAL", "INTEGER", "FLOAT", "UUID", "HEXNUMBER", "DURATION", "K_TRUE", "K_FALSE",
              "K_NAN", "K_INFINITY"}
# Keywords and punctuation most worth reading first; the others follow alphabetically.
_FIRST = ["SELECT", "INSERT", "UPDATE", "DELETE", "BEGIN", "CREATE", "ALTER", "DROP", "USE", "TRUNCATE",
          "FROM", "WHERE", "AND", "SET", "VALUES", "WITH", "PRIMARY", "IF", "USING", "LIMIT", "'*'", "'('",
          "')'", "','", "'='", "';'"]
_RANK = {shown: rank for rank, shown in enumerate(_FIRST)}


def expected_phrase(names) -> str:
    """``FROM`` / ``one of identifier, FROM, ','`` for a set of terminal names: every name-like
    terminal reads "identifier", several literal kinds read "constant", the list is capped."""
    names = set(names)
    keywords = keyword_terminals()
    if names & {"IDENT", "QUOTED_NAME"}:
        unreserved = unreserved_keywords()
        names = {n for n in names if keywords.get(n) not in unreserved}
    if len(names & _CONSTANTS) >= 3:
        names = (names - _CONSTANTS) | {"constant"}
    shown = sorted({display_terminal(n) for n in names}, key=_display_order)
    if not shown:
        return "nothing"
    if len(shown) == 1:
        return shown[0]
    if len(shown) > MAX_EXPECTED:
        shown = shown[:MAX_EXPECTED] + ["..."]
    return "one of " + ", ".join(shown)


def _display_order(shown: str) -> tuple[int, int, str]:
    if shown == "identifier":
        group = 0
    elif shown == "end of input":
        group = 4
    elif shown.startswith("'"):
        group = 3
    elif shown.isupper():
        group = 1
    else:
        group = 2
    return (group, _RANK.get(shown, len(_RANK)), shown)


def token_text(text: str) -> str:
    """A token's text, shortened to one line for quoting in a message."""
    first = text.split("\n", 1)[0]
    if len(first) > MAX_TOKEN_TEXT or first != text:
        return first[:MAX_TOKEN_TEXT] + "..."
    return first


def source_context(text: str, line: int, column: int) -> str:
    """The source line (tabs shown as spaces, long lines cut around the column) and a caret under
    ``column``."""
    lines = text.split("\n")
    source = lines[line - 1].rstrip("\r") if 0 < line <= len(lines) else ""
    source = source.replace("\t", " ")
    offset = column - 1
    if len(source) > MAX_CONTEXT:
        begin = max(0, min(offset - MAX_CONTEXT // 2, len(source) - MAX_CONTEXT))
        excerpt = source[begin:begin + MAX_CONTEXT]
        prefix = "..." if begin > 0 else ""
        suffix = "..." if begin + MAX_CONTEXT < len(source) else ""
        source = prefix + excerpt + suffix
        offset = offset - begin + len(prefix)
    return source + "\n" + " " * max(offset, 0) + "^"


def syntax_error(message: str, text: str, line: int, column: int) -> SyntaxException:
    """A SyntaxException for ``message`` at ``line``:``column`` of ``text``."""
    return SyntaxException(f"line {line}:{column} {message}\n{source_context(text, line, column)}",
                           line, column)


def from_lark(error: UnexpectedInput, text: str) -> SyntaxException:
    """Translate a Lark parse or lex error into a SyntaxException."""
    if isinstance(error, UnexpectedToken):
        return _unexpected_token(error, text)
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_characters(error, text)
    line, column = _position(error)
    return syntax_error("syntax error", text, line, column)


def _position(error: UnexpectedInput) -> tuple[int, int]:
    line = error.line if isinstance(error.line, int) and error.line > 0 else 1
    column = error.column if isinstance(error.column, int) and error.column > 0 else 1
    return line, column


def _expected_terminals(error: UnexpectedToken) -> set[str]:
    try:
        accepts = error.accepts
    except Exception:        # accepts simulates the parser; never let that hide the real error
        accepts = None
    return set(accepts or error.expected or ())


def _unexpected_token(error: UnexpectedToken, text: str) -> SyntaxException:
    token: Token = error.token
    expected = _expected_terminals(error)
    if token.type == _END:
        if getattr(token, "end_line", None):
            line, column = token.end_line, token.end_column
        else:
            line, column = 1, 1
        message = f"unexpected end of input, expecting {expected_phrase(expected)}"
        return syntax_error(message, text, line, column)
    line, column = _position(error)
    message = f"mismatched input '{token_text(str(token))}' expecting {expected_phrase(expected)}"
    word = str(token).lower()
    if expected & {"IDENT", "QUOTED_NAME"} and word in reserved_keywords():
        message += f" ('{word}' is a reserved keyword: write \"{word}\" to use it as a name)"
    elif expected == {_END} and token.type in _STATEMENT_STARTS:
        message += " (one statement at a time)"
    return syntax_error(message, text, line, column)


_STATEMENT_STARTS = {"K_SELECT", "K_INSERT", "K_UPDATE", "K_DELETE", "K_BEGIN", "K_CREATE", "K_ALTER",
                     "K_DROP", "K_USE", "K_TRUNCATE", "K_DESCRIBE", "K_DESC", "K_EXPLAIN", "K_LIST"}


def _unexpected_characters(error: UnexpectedCharacters, text: str) -> SyntaxException:
    line, column = _position(error)
    position = error.pos_in_stream if isinstance(error.pos_in_stream, int) else 0
    rest = text[position:position + 2]
    if rest.startswith("'"):
        message = "unterminated string literal"
    elif rest == "$$":
        message = "unterminated $$ string"
    elif rest == "/*":
        message = "unterminated comment"
    elif rest.startswith('"'):
        message = "empty quoted identifier" if rest == '""' else "unterminated quoted identifier"
    else:
        character = rest[:1]
        if not character.isprintable():
            character = character.encode("unicode_escape").decode("ascii")
        message = f"token recognition error at: '{character}'"
    return syntax_error(message, text, line, column)
