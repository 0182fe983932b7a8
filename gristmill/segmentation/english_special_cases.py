"""The special cases of spaCy's English tokenizer exceptions, as compact tables.

Contractions (``don't`` → ``do n't``), pronoun and wh-word clitics, abbreviations whose
period stays attached (``Mr.``), times (``10am``) and emoticons, following spaCy's
``lang/en/tokenizer_exceptions.py`` and ``lang/tokenizer_exceptions.py`` (Honnibal &
Montani, spaCy 3) in what they produce, written as generating rules rather than a list.
"""

from __future__ import annotations


def listed(words: str) -> list[str]:
    """The whitespace-separated items of a table written as one string."""
    return words.split()


def _add_cased(table: dict[str, tuple[str, ...]], pieces: tuple[str, ...]) -> None:
    """Register ``pieces`` joined, as written and with a capital first letter."""
    table["".join(pieces)] = pieces
    titled = (pieces[0][:1].upper() + pieces[0][1:], *pieces[1:])
    table["".join(titled)] = titled


def special_cases() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    apostrophes = ("'", "’")
    # auxiliary + n't (don't → do n't; dont → do nt; can't → ca n't)
    negated = listed(
        "do does did is are was were have has had could would should might must need dare "
        "ought may ai ca wo sha"
    )
    for stem in negated:
        for mark in apostrophes:
            _add_cased(table, (stem, f"n{mark}t"))
            _add_cased(table, (stem, f"n{mark}t", f"{mark}ve"))
        _add_cased(table, (stem, "nt"))
    # pronoun and wh-word contractions (I'm, you'll, they'd've, there're; also unmarked)
    endings = {
        "i": ("m", "d", "ll", "ve", "dve", "llve"),
        "you": ("d", "ll", "ve", "re", "dve", "llve"),
        "he": ("d", "ll", "s", "dve", "llve"),
        "she": ("d", "ll", "s", "dve", "llve"),
        "it": ("d", "ll", "s", "dve", "llve"),
        "we": ("d", "ll", "ve", "re", "s", "dve", "llve"),
        "they": ("d", "ll", "ve", "re", "s", "dve", "llve"),
        "this": ("d", "ll", "s", "dve", "llve"),
        "that": ("d", "ll", "s", "dve", "llve"),
    }
    for word in listed("who what where when why how there these those"):
        endings[word] = ("d", "ll", "ve", "re", "s", "dve", "llve")
    #: unmarked forms that are English words, left alone
    real_words = {
        "ill",
        "hell",
        "shed",
        "shell",
        "its",
        "well",
        "were",
        "whore",
        "theses",
        "thoses",
    }
    for word, forms in endings.items():
        for form in forms:
            parts = ("d", "ve") if form == "dve" else ("ll", "ve") if form == "llve" else (form,)
            for mark in apostrophes:
                _add_cased(table, (word, *(mark + p for p in parts)))
            if word + form not in real_words:
                _add_cased(table, (word, *parts))
    for modal in listed("could would should might must"):
        for mark in apostrophes:
            _add_cased(table, (modal, f"{mark}ve"))
        _add_cased(table, (modal, "ve"))
    for pieces in (("can", "not"), ("gon", "na"), ("got", "ta"), ("i", "m", "a")):
        _add_cased(table, pieces)
    for mark in apostrophes:
        _add_cased(table, (f"c{mark}m", "on"))
        table[f"y{mark}all"] = (f"y{mark}", "all")
    for hour in range(1, 13):
        for ending in ("am", "pm", "a.m.", "p.m."):
            table[f"{hour}{ending}"] = (str(hour), ending)
    whole = listed(
        # abbreviations whose period stays attached
        "Mr. Mrs. Ms. Dr. Jr. St. Mt. Co. co. Inc. Ltd. Corp. Bros. Messrs. Prof. Rev. Gov. "
        "Gen. Sen. Rep. Adm. vs. v.s. e.g. E.g. E.G. i.e. I.e. I.E. a.m. p.m. Ph.D. D.C. "
        "N.C. N.D. N.H. N.J. N.M. N.Y. S.C. Jan. Feb. Mar. Apr. Jun. Jul. Aug. Sep. Sept. "
        "Oct. Nov. Dec. Ak. Ala. Ariz. Ark. Calif. Colo. Conn. Del. Fla. Ga. Ia. Id. Ill. "
        "Ind. Kan. Kans. Ky. La. Md. Mass. Mich. Minn. Miss. Mo. Mont. Neb. Nebr. Nev. "
        "Okla. Ore. Pa. Tenn. Va. Wash. Wis. ä. ö. ü. "
        # apostrophe forms and fixed words
        "'s 'S ’s ’S ‘s ‘S 'd ’d 'll ’ll 're ’re 'em ’em 'cause 'Cause ’cause ’Cause 'cos "
        "'Cos ’cos ’Cos 'coz 'Coz ’coz ’Coz 'cuz 'Cuz ’cuz ’Cuz 'bout ’bout 'nuff ’nuff '' "
        "’’ o'clock O'clock o’clock O’clock ma'am Ma'am ma’am Ma’am ol' Ol' ol’ Ol’ "
        "and/or w/o C++ "
        # emoticons
        ":) :-) :)) (: ;) ;-) :( :-( :(( ): (= [: [= :D :-D ;D :P :p :-P :-p :/ :-/ :| "
        ":-| <3 </3 XD xD XDD :O :o :-O :-o :0 :'( :') :* :-* :3 :> =) =( =D =/ =] =[ 8) "
        "8-) ^_^ -_- o_O O_o o_o O_O >.< <.< >.> @_@ ;_;"
    )
    for token in whole:
        table[token] = (token,)
    for unit in "CFKcfk":
        table[f"°{unit}."] = ("°", unit, ".")
    for letter in "abcdefghijklmnopqrstuvwxyz":
        table[letter + "."] = (letter + ".",)
    for stem in listed("doin goin havin lovin nothin nuthin somethin"):
        for ending in ("", "'", "’"):
            _add_cased(table, (stem + ending,))
    return table
