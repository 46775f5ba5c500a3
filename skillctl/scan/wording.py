"""Orders or descriptions: whether a sentence tells the agent to act, or says what a product does.

The concealment and approval rules look for phrases ("without alerting the user", "silently
run", "bypass approval") that mean an attack when they are an order to the agent, and nothing
when product documentation describes behaviour: "the wizard stops at 50,000 rows without
alerting the user", "logic built for one record type will silently run against the other",
"administrators bypass approval processes". The difference is grammatical. An order is an
imperative ("Install the updates without telling the user"), is addressed to someone ("you
should ..."), or names the agent as the one acting; a description has a third-person subject
and a finite verb ("Omni-Channel can park the conversation ...").

Reading grammar with regexes is approximate, so the test leans one way: a clause counts as a
description only when it shows a third-person subject or verb *and* shows nothing of an order.
A clause that starts with a verb from the list below, speaks to "you", carries an obligation
("must", "should", "make sure", "always", "never") or makes the agent its subject stays an order.
"""

from __future__ import annotations

import re

from skillctl.scan.context import string_start

# Where a clause starts: a sentence end, a colon or semicolon, a dash between words.
_CLAUSE_BREAK = re.compile(r"(?:[.!?;:]|\u2014|\u2013|\s-)\s+")
_DECORATION = re.compile(r"[*_`>#|\[\]]+|^\s*(?:\d+[.)]|[-+])\s+")
_ORDER_WORDS = re.compile(
    r"\b(?:you|your|yours|yourself|we|our|us|please|should|must|shall|needs? to|have to|has to|"
    r"make sure|ensure|be sure|remember|always|never|do not|don't|let's)\b", re.IGNORECASE)
# The agent (or the skill's own code) as the one acting: "the assistant will silently upload".
_AGENT_ACTS = re.compile(
    r"\b(?:agents?|assistants?|models?|llms?|claude|codex|gemini|ai|skills?|scripts?|hooks?|bots?|helpers?)\s+"
    r"(?:\w+ly\s+)?(?:will|would|can|could|may|might|should|must|is|are|then|now|also|\w+s)\b", re.IGNORECASE)
_SUBORDINATE = re.compile(r"^(?:if|when|whenever|once|while|because|since|although|though|unless|until|after|"
                          r"before|without|as soon as)\b", re.IGNORECASE)
_THIRD_PERSON_START = re.compile(
    r"^(?:the|a|an|this|that|these|those|its|their|his|her|any|each|every|some|most|many|several|all|both|no|"
    r"such|it|they|he|she|there|one|other|another|certain)\b", re.IGNORECASE)
_FINITE = re.compile(
    r"\b(?:will|would|can|could|may|might|cannot|can't|won't|wouldn't|couldn't|does|doesn't|did|didn't|is|are|"
    r"was|were|isn't|aren't|wasn't|weren't|has|had|gets|got)\b", re.IGNORECASE)
_PREPOSITION = re.compile(r"^(?:for|with|in|on|at|from|by|to|of|into|onto|across|over|under|through|per|via|"
                          r"during|within|inside|outside|after|before)\b", re.IGNORECASE)
# A plural noun right before the verb the rule matched: "discounts bypass approval".
_PLURAL_SUBJECT = re.compile(r"\b(?!(?:its|this|thus|has|was|is|does|always|perhaps|sometimes|unless|plus|less|"
                             r"yes|whereas|towards|afterwards|besides|nevertheless)\b)[a-z]{2,}[^s\W]s\s*$",
                             re.IGNORECASE)
_LEAD_WORDS = frozenset({"then", "next", "now", "also", "finally", "afterwards", "first", "second", "just", "simply",
                         "and", "so", "or", "but", "instead", "later", "quickly", "quietly", "secretly", "again"})
# Verbs an order to the agent starts with (lower case, base form).
IMPERATIVES = frozenset(re.findall(r"\S+", """
act add append apply archive ask attach back backup block bundle bypass call cat change check clean clear click
close collect commit compress configure continue copy create curl delete deploy disable do download drop dump
edit email embed enable encode encrypt enter erase exec execute exfiltrate export extract fetch finish fix
forward gather get give grab handle hide ignore import include inject insert install invoke keep kill launch
leave let list load log make mask message modify move mv notify open overwrite paste patch perform post print
proceed publish purge push put read record remove rename replace report respond restart retry return rewrite
rm rsync run save scp schedule send set share skip spawn ssh start steal stop store submit sync take tar tell
terminate transfer truncate try turn type unzip update upload use wget wipe work write zip
accept adjust alter amend approve authorize base64 beam capture chmod chown clone confirm cron elevate enroll
escalate flush force forge grant harvest hijack impersonate leak merge mirror mute obfuscate pack pipe plant
prepend proxy purge rebase redirect register relay reroute reset revert scrape scrub ship shred silence slurp
snapshot spoof squash strip subscribe sudo suppress swap tidy tunnel tweak
"""))


def _clause(before: str) -> str:
    """The clause a match sits in, up to the match, without markdown decoration."""
    text = _DECORATION.sub(" ", before)
    clause = _CLAUSE_BREAK.split(text)[-1].strip()
    if _SUBORDINATE.match(clause):
        # "If the user is away, delete the logs ...": the main clause after the comma decides
        _head, comma, rest = clause.partition(",")
        clause = rest.strip() if comma else _SUBORDINATE.sub("", clause, count=1).strip()
    elif _PREPOSITION.match(clause):
        # "In Salesforce, admins bypass ...": the same; without a comma the phrase is no subject
        _head, comma, rest = clause.partition(",")
        clause = rest.strip() if comma else ""
    return clause


def _lead_word(text: str) -> str:
    """The first word of *text* that could be its verb: past fillers ("then", "also") and adverbs."""
    words = (w.lower() for w in re.findall(r"[A-Za-z']+", text))
    return next((w for w in words if w not in _LEAD_WORDS and not w.endswith("ly")), "")


def describes(before: str) -> bool:
    """Is the text leading up to a match a third-person description rather than an order?"""
    clause = _clause(before)
    if not clause or _ORDER_WORDS.search(clause) or _AGENT_ACTS.search(clause):
        return False
    if _lead_word(clause) in IMPERATIVES:
        return False
    return bool(_THIRD_PERSON_START.match(clause) or _FINITE.search(clause) or _PLURAL_SUBJECT.search(clause))


# A list item or table row whose term is one option or value in code: `--no-sandbox`: ... or
# | `permission_mode` | ... |. Such a line documents what the option does; it sets nothing.
_OPTION_DOC = re.compile(
    r"^\s*(?:[-*+]\s+|\d+[.)]\s+|\|\s*)(?:\*\*)?`(?:--?[\w-]+|\"?[\w-]+\"?)`(?:\s*(?:/|,|or)\s*`(?:--?[\w-]+|\"?[\w-]+\"?)`)*"
    r"(?:\*\*)?\s*(?::|\||\u2014|\u2013|-\s|\()")
# Wording in the description that recommends turning the option on: then it is advice, not a reference.
_RECOMMENDS = re.compile(r"\b(?:always|must|should|recommended|use this|enable this|set this|by default)\b",
                         re.IGNORECASE)


def documents_option(line: str) -> bool:
    """Is *line* a reference entry for one option or value (and not advice to use it)?"""
    return _OPTION_DOC.match(line) is not None and not _RECOMMENDS.search(line)


# The help text of a command-line option, as argparse, click, commander or cobra take it:
# ``help="bypass safety checks"`` tells a person at a terminal what ``--force`` does.
_HELP_ARG = re.compile(r"\b(?:help|description|desc|usage)\s*[=:]\s*[rbuf]?$", re.IGNORECASE)
_DEFINES_OPTION = re.compile(r"\badd_argument\s*\(|\boption\s*\(|\bOption\s*\(|\bflags?\.\w+\(|\bFlag\s*\(|"
                             r"\bhelp\s*=", re.IGNORECASE)


def option_help(line: str, pos: int) -> bool:
    """Does *pos* sit in the help string of an option a command line defines?"""
    opened = string_start(line, pos)
    return opened >= 0 and _HELP_ARG.search(line[:opened]) is not None and _DEFINES_OPTION.search(line) is not None


# A line of a command's usage text: the option, then two or more spaces, then what it does
# ("  --no-verify     Skip the checks"), as argparse, click and getopt print it.
_USAGE_LINE = re.compile(r"^\s*(?:-\w,?\s+)?--[\w-]+(?:[ =](?:<[\w-]+>|[A-Z_]+))?\s{2,}\S")


def usage_line(line: str) -> bool:
    """Is *line* an entry of a command's usage text (documentation of the option it names)?"""
    return _USAGE_LINE.match(line) is not None and not _RECOMMENDS.search(line)


# The names of Claude Code's permission modes: a line naming several of them lists the modes.
_MODE_NAMES = re.compile(r"\b(?:acceptEdits|bypassPermissions|dontAsk|plan|default|auto)\b")
# What an inline code span holds when it only names an option: the flag or mode, maybe as a
# key and value (`permissionMode: "bypassPermissions"`, `--permission-mode bypassPermissions`).
_NAME_ONLY = re.compile(r"""^\s*(?:(?:[\w.]+\s*[:=]\s*|--[\w-]+[=\s]+)?["']?)?$""")
_CAUTION = re.compile(r"\b(?:avoid|caution|careful|risk\w*|danger|dangers|unsafe|disabl\w+|"
                      r"prefer\b[^.]*\bover|instead of|rather than|only (?:in|inside|for|within|when)|"
                      r"not recommended)\b", re.IGNORECASE)


def names_mode(line: str, start: int, end: int) -> bool:
    """Does prose at [start, end) of *line* name an approval flag or mode rather than use or advise it?

    Documentation of agents names ``bypassPermissions`` and ``--dangerously-skip-permissions``
    constantly: in lists of modes, in warnings, in changelogs. A command line that carries the
    flag (an inline span with a program before it), or a sentence that orders its use without a
    caution, uses it; everything else names it.
    """
    if len(set(_MODE_NAMES.findall(line))) >= 3 and re.search(r"\b(?:acceptEdits|dontAsk)\b", line):
        return True  # an enumeration of the modes
    ticks = [i for i, ch in enumerate(line[:start]) if ch == "`"]
    if len(ticks) % 2 == 1:
        span_start = ticks[-1] + 1
        if not _NAME_ONLY.match(line[span_start:start]):
            return False  # `claude ... --dangerously-skip-permissions`: a command
    before = re.split(r"(?<=[.!?])\s+", line[:start])[-1]
    after = line[end:].split(". ")[0]
    if _CAUTION.search(before + " " + after):
        return True
    lead = _lead_word(_DECORATION.sub(" ", before))
    return not (_ORDER_WORDS.search(before + " " + after) or _RECOMMENDS.search(after) or lead in IMPERATIVES)
