"""Forename aliases: English-language diminutives and their formal names.

Owns the nickname table used to put ``Bob`` and ``Robert`` (or ``Kate`` and
``Katherine``) on the same footing before comparison.

Source: written for ADAPT from general knowledge of common English-language
given names and their usual short forms (the kind of list found in any baby
name book). It was written independently of :mod:`adapt.synthetic.names`, so
the resolver is not tuned to the generator's nickname noise. Each group is a
formal name followed by its diminutives; a short form may sit in more than
one group (``alex`` → Alexander and Alexandra), in which case it carries every
group as an alias and matches any of them.
"""

from __future__ import annotations

from functools import lru_cache

# formal name first, then diminutives and common alternative spellings
GROUPS: tuple[tuple[str, ...], ...] = (
    ("abigail", "abby", "abbie", "gail"),
    ("albert", "al", "bert", "bertie"),
    ("alexander", "alex", "alec", "sandy", "xander", "lex"),
    ("alexandra", "alex", "alexa", "lexi", "sandy", "ali"),
    ("alfred", "alf", "alfie", "fred"),
    ("alison", "allison", "ali", "ally"),
    ("andrew", "andy", "drew"),
    ("angela", "angie", "ange"),
    ("anthony", "antony", "tony", "ant"),
    ("antonia", "toni", "tonia"),
    ("arthur", "art", "artie"),
    ("barbara", "barb", "babs", "barbie"),
    ("benjamin", "ben", "benny", "benji"),
    ("bernard", "bernie", "barney"),
    ("beverley", "beverly", "bev"),
    ("bradley", "brad"),
    ("bridget", "bridie", "biddy"),
    ("callum", "cal"),
    ("carol", "caroline", "carole", "carrie", "caz"),
    (
        "catherine",
        "katherine",
        "kathryn",
        "catharine",
        "cathy",
        "kathy",
        "cath",
        "kath",
        "kate",
        "katie",
        "katy",
        "kat",
        "cat",
        "kay",
        "kitty",
    ),
    ("charles", "charlie", "chas", "chuck", "chaz"),
    ("charlotte", "charlie", "lottie", "lotte", "char"),
    ("christina", "christine", "chris", "chrissy", "tina"),
    ("christopher", "chris", "kit", "topher"),
    ("clifford", "cliff"),
    ("colin", "col"),
    ("cynthia", "cindy"),
    ("daniel", "dan", "danny"),
    ("danielle", "dani"),
    ("david", "dave", "davy", "davey"),
    ("deborah", "debra", "debbie", "deb", "debs"),
    ("dennis", "den"),
    ("donald", "don", "donnie"),
    ("dorothy", "dot", "dottie", "dolly"),
    ("douglas", "doug", "dougie"),
    ("edward", "ed", "eddie", "ted", "teddy", "ned"),
    ("eleanor", "elinor", "ellie", "nell", "nora"),
    (
        "elizabeth",
        "liz",
        "lizzie",
        "beth",
        "betty",
        "bet",
        "libby",
        "eliza",
        "bess",
        "lisa",
        "elsie",
    ),
    ("emily", "em", "emmy"),
    ("emma", "em", "emmy"),
    ("frances", "fran", "frankie", "fanny"),
    ("francis", "frank", "frankie"),
    ("frederick", "fred", "freddie", "freddy"),
    ("gabriel", "gabe"),
    ("gareth", "gaz"),
    ("geoffrey", "jeffrey", "geoff", "jeff"),
    ("george", "georgie"),
    ("georgina", "georgia", "georgie", "gina"),
    ("gerald", "gerry", "gerard", "ged"),
    ("gregory", "greg"),
    ("gwendolyn", "gwen"),
    ("harold", "harry", "hal"),
    ("harriet", "hattie", "hatty"),
    ("helen", "nell", "nellie"),
    ("henry", "harry", "hal", "hank"),
    ("isabel", "isabella", "isobel", "izzy", "bella", "issy"),
    ("jacob", "jake"),
    ("jacqueline", "jackie", "jacqui", "jacky"),
    ("james", "jim", "jimmy", "jamie", "jimbo"),
    ("jennifer", "jen", "jenny", "jenni"),
    ("jessica", "jess", "jessie"),
    ("joanne", "joanna", "jo", "jojo"),
    ("john", "jon", "jonny", "johnny", "jack"),
    ("jonathan", "jon", "jonny", "johnny"),
    ("joseph", "joe", "joey", "jo"),
    ("joshua", "josh"),
    ("judith", "judy", "jude"),
    ("julian", "jules"),
    ("kenneth", "ken", "kenny"),
    ("kimberley", "kimberly", "kim"),
    ("lawrence", "laurence", "larry", "laurie", "lol"),
    ("leonard", "len", "lenny", "leo"),
    ("leslie", "lesley", "les"),
    ("louise", "louisa", "lou", "lulu"),
    ("lucy", "lucinda", "lu"),
    ("margaret", "maggie", "meg", "peggy", "marge", "madge", "mags"),
    ("matthew", "matt", "matty"),
    ("michael", "mike", "mick", "micky", "mickey", "mikey", "mich"),
    ("michelle", "shelley", "shell", "chelle"),
    ("nathaniel", "nathan", "nat", "nate"),
    ("nicholas", "nick", "nicky", "nico"),
    ("nicola", "nicole", "nikki", "nicky", "nic"),
    ("oliver", "ollie", "olly"),
    ("patricia", "pat", "patsy", "trish", "tricia", "patty"),
    ("patrick", "pat", "paddy"),
    ("peter", "pete"),
    ("philip", "phillip", "phil", "pip"),
    ("rachel", "rach"),
    ("raymond", "ray"),
    ("rebecca", "becky", "becca", "bex", "becki"),
    ("richard", "rick", "ricky", "rich", "richie", "dick"),
    ("robert", "rob", "robbie", "bob", "bobby", "bert", "rab"),
    ("roberta", "bobbie", "robbie"),
    ("ronald", "ron", "ronnie"),
    ("rosemary", "rose", "rosie", "rosa"),
    ("samantha", "sam", "sammy", "sammie"),
    ("samuel", "sam", "sammy"),
    ("sarah", "sara", "sally", "sadie"),
    ("simon", "si"),
    ("sophia", "sophie", "sophy"),
    ("stephanie", "steph", "stephie"),
    ("stephen", "steven", "steve", "stevie"),
    ("stuart", "stewart", "stu"),
    ("susan", "susannah", "suzanne", "sue", "susie", "suzy"),
    ("terence", "terrence", "terry", "tel"),
    ("teresa", "theresa", "tess", "tessa", "terri"),
    ("thomas", "tom", "tommy"),
    ("timothy", "tim", "timmy"),
    ("valerie", "val"),
    ("victoria", "vicky", "vicki", "vikki", "tori", "vic"),
    ("vincent", "vince", "vinny"),
    ("walter", "walt", "wally"),
    ("william", "will", "bill", "billy", "willie", "wills"),
    ("zachary", "zach", "zack", "zak"),
)


@lru_cache(maxsize=1)
def alias_table() -> dict[str, tuple[str, ...]]:
    """Every known forename (lower case) → the formal names of its groups, sorted."""
    out: dict[str, set[str]] = {}
    for group in GROUPS:
        for name in group:
            out.setdefault(name, set()).add(group[0])
    return {name: tuple(sorted(formals)) for name, formals in out.items()}


def aliases(name: str) -> tuple[str, ...]:
    """Formal names a lower-case forename may stand for (itself if unknown)."""
    return alias_table().get(name, (name,))
