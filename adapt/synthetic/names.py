"""Name, nickname and place vocabularies for the synthetic force.

Owns the word lists the generator draws from and the nickname/variant table
that identity resolution will reuse. Every list is ordered from most to least
common and turned into a skewed (Zipf-like) frequency by :func:`zipf_weights`,
so that "Smith" and "David" are far more frequent than "Wiśniewski" or
"Zoltán", as in real nominal data. Nothing here is a real person: forenames and
surnames are drawn independently and combined at random.

Sources: forename lists were compiled by hand from the general shape of the
ONS "baby names in England and Wales" tables for the birth years of the
simulated people (1950s–2000s) and the surname list from the general shape of
published "most common surnames in Britain" rankings, with South Asian and
Polish names reflecting a Midlands city. Weights are a Zipf curve, not the
published counts. Street, town and policing-unit names are invented.
"""

from __future__ import annotations

import numpy as np

MALE_FORENAMES: tuple[str, ...] = (
    "David", "Michael", "John", "Paul", "Mark", "James", "Andrew", "Daniel",
    "Christopher", "Robert", "Richard", "Thomas", "Matthew", "Steven", "Lee",
    "Craig", "Darren", "Jamie", "Ryan", "Liam", "Luke", "Adam", "Jason", "Dean",
    "Wayne", "Gary", "Kevin", "Anthony", "Stephen", "Peter", "Simon", "Scott",
    "Ben", "Samuel", "Joshua", "Jack", "Connor", "Callum", "Jordan", "Kieran",
    "Nathan", "Aaron", "Ashley", "Carl", "Shaun", "Martin", "Neil", "Ian",
    "William", "Joseph", "Alexander", "Edward", "Sean", "Mohammed", "Muhammad",
    "Imran", "Sanjay", "Amit", "Vijay", "Gurpreet", "Piotr", "Tomasz", "Kyle",
    "Reece", "Tyler", "Bradley", "Dale", "Gavin", "Karl", "Philip", "Kenneth",
    "Terry", "Brian", "Keith", "Colin", "Graham", "Barry", "Trevor", "Derek",
    "Alan", "Nigel", "Leon", "Marcus", "Aidan", "Declan", "Patrick", "Francis",
    "Łukasz", "Jakub", "José", "Seán", "Zoltán", "Jean-Paul", "Dwayne", "AJ",
    "JP",
)  # fmt: skip

FEMALE_FORENAMES: tuple[str, ...] = (
    "Sarah", "Emma", "Laura", "Claire", "Rebecca", "Gemma", "Nicola", "Lisa",
    "Michelle", "Kelly", "Rachel", "Amy", "Hayley", "Samantha", "Jessica",
    "Charlotte", "Danielle", "Stacey", "Victoria", "Katherine", "Catherine",
    "Elizabeth", "Jennifer", "Joanne", "Louise", "Helen", "Karen", "Susan",
    "Amanda", "Tracey", "Donna", "Dawn", "Julie", "Angela", "Jane", "Mary",
    "Margaret", "Patricia", "Linda", "Sharon", "Leanne", "Kirsty", "Natalie",
    "Jade", "Chloe", "Lauren", "Sophie", "Hannah", "Megan", "Bethany",
    "Shannon", "Courtney", "Paige", "Ellie", "Holly", "Jodie", "Kayleigh",
    "Toni", "Aisha", "Fatima", "Priya", "Sunita", "Nisha", "Shabana", "Ayesha",
    "Agnieszka", "Katarzyna", "Naomi", "Abigail", "Leah", "Kerry", "Lorraine",
    "Deborah", "Carol", "Christine", "Tina", "Wendy", "Janet", "Chloé", "Zoë",
    "Siân", "Renée", "Mary-Jane", "Ann-Marie", "NA",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson",
    "Thomas", "Johnson", "Roberts", "Patel", "Robinson", "Thompson", "Wright",
    "Walker", "White", "Edwards", "Hughes", "Green", "Hall", "Lewis", "Harris",
    "Clarke", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
    "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan",
    "Allen", "James", "Scott", "Singh", "Phillips", "Watson", "Davis", "Parker",
    "Price", "Bennett", "Young", "Khan", "Griffiths", "Mitchell", "Kelly",
    "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw",
    "Murphy", "Miller", "Cox", "Richards", "Marshall", "Anderson", "Simpson",
    "Ellis", "Adams", "Begum", "Wilkinson", "Foster", "Chapman", "Powell",
    "Webb", "Rogers", "Gray", "Mason", "Ali", "Hunt", "Hussain", "Campbell",
    "Matthews", "Owen", "Palmer", "Holmes", "Mills", "Barnes", "Knight",
    "Lloyd", "Butler", "Russell", "Barker", "Fisher", "Stevens", "Jenkins",
    "Murray", "Dixon", "Harvey", "Graham", "Pearson", "Ahmed", "Fletcher",
    "Walsh", "Kaur", "Gibson", "Howard", "Andrews", "Stewart", "Elliott",
    "Reynolds", "Saunders", "Payne", "Fox", "Ford", "Pearce", "Day", "Brooks",
    "West", "Lawrence", "Cole", "Atkinson", "Bradley", "Spencer", "Gill",
    "Dawson", "Ball", "Burton", "O'Brien", "Watts", "Rose", "Booth", "Perry",
    "Ryan", "Grant", "Wells", "Armstrong", "Francis", "Rees", "Hayes", "Hart",
    "Hudson", "Newman", "Barrett", "Webster", "Hunter", "Gregory", "Carr",
    "Lowe", "Page", "Marsh", "Riley", "Dunn", "Woods", "Parsons", "Berry",
    "Stone", "Reid", "Holland", "Hawkins", "Harding", "Porter", "Robertson",
    "Newton", "Oliver", "Reed", "Kennedy", "Williamson", "Bird", "Gardner",
    "Shah", "Dean", "Lane", "Cooke", "Bates", "Henderson", "Parry", "Burgess",
    "Bishop", "Walton", "Burns", "Nicholson", "Shepherd", "Ross", "Cross",
    "Long", "Freeman", "Warren", "Nicholls", "Hamilton", "Byrne", "Sutton",
    "McDonald", "Yates", "Hodgson", "Robson", "Curtis", "Hopkins", "O'Connor",
    "Harper", "Coleman", "Watkins", "Moss", "McCarthy", "Chambers", "O'Neill",
    "Griffin", "Sharp", "Hardy", "Wheeler", "Potter", "Osborne", "Johnston",
    "Gordon", "Doyle", "Wallace", "Mistry", "Chauhan", "Parmar", "Solanki",
    "Mahmood", "Akhtar", "Kowalski", "Nowak", "Wiśniewski", "Nguyen",
    "D'Souza", "Fernandes", "Müller", "Smith-Jones", "Hughes-Williams",
    "Taylor-Brown", "Lloyd-Davies", "Null",
)  # fmt: skip

# Nicknames and spelling variants by canonical forename: the forms a person is
# recorded under in practice (diminutives, accents dropped, hyphen dropped).
# Compiled by hand for this project from common English diminutives and the
# transliteration/accent variants seen in British nominal records; it is a
# small curated table, not a scraped data set. Identity resolution reuses it
# (treat a recorded name and a canonical name as the same when either maps to
# the other).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby", "Robbie"),
    "William": ("Bill", "Will", "Billy"),
    "Katherine": ("Kate", "Kathy", "Katie", "Kath"),
    "Catherine": ("Cath", "Cathy", "Kate", "Katie"),
    "Elizabeth": ("Liz", "Beth", "Lizzie", "Betty"),
    "Michael": ("Mike", "Mick", "Micky"),
    "Christopher": ("Chris", "Kit"),
    "Anthony": ("Tony", "Ant"),
    "Daniel": ("Dan", "Danny"),
    "David": ("Dave", "Davey"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "John": ("Jack", "Johnny", "Jon"),
    "Richard": ("Rich", "Rick", "Richie"),
    "Thomas": ("Tom", "Tommy"),
    "Matthew": ("Matt",),
    "Steven": ("Steve", "Stevie"),
    "Stephen": ("Steve", "Steven"),
    "Andrew": ("Andy", "Drew"),
    "Joseph": ("Joe", "Joey"),
    "Samuel": ("Sam", "Sammy"),
    "Alexander": ("Alex", "Sandy"),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Joshua": ("Josh",),
    "Peter": ("Pete",),
    "Kenneth": ("Ken", "Kenny"),
    "Patrick": ("Pat", "Paddy"),
    "Francis": ("Frank", "Frankie"),
    "Philip": ("Phil", "Phillip"),
    "Terry": ("Terence",),
    "Nathan": ("Nat", "Nate"),
    "Benjamin": ("Ben", "Benny"),
    "Jennifer": ("Jen", "Jenny"),
    "Samantha": ("Sam", "Sammy"),
    "Rebecca": ("Becky", "Becca"),
    "Victoria": ("Vicky", "Tori"),
    "Margaret": ("Maggie", "Peggy", "Meg"),
    "Patricia": ("Pat", "Trish", "Tricia"),
    "Deborah": ("Debbie", "Deb"),
    "Susan": ("Sue", "Susie"),
    "Amanda": ("Mandy",),
    "Jessica": ("Jess",),
    "Danielle": ("Dani",),
    "Nicola": ("Nicky", "Nikki"),
    "Abigail": ("Abby", "Abi"),
    "Charlotte": ("Lottie", "Charlie"),
    "Christine": ("Chris", "Chrissie"),
    "Rachel": ("Rach",),
    "Natalie": ("Nat",),
    "Joanne": ("Jo", "Joanna"),
    "Louise": ("Lou",),
    "Angela": ("Angie",),
    "Kayleigh": ("Kayley", "Kaylee"),
    "Mohammed": ("Mohammad", "Muhammad", "Mo"),
    "Muhammad": ("Mohammed", "Mohamed"),
    "Łukasz": ("Lukasz",),
    "Tomasz": ("Tomek", "Tom"),
    "Piotr": ("Peter",),
    "Jakub": ("Kuba", "Jacob"),
    "Katarzyna": ("Kasia",),
    "Agnieszka": ("Aga",),
    "Zoë": ("Zoe",),
    "Chloé": ("Chloe",),
    "Siân": ("Sian",),
    "Seán": ("Sean", "Shaun"),
    "José": ("Jose",),
    "Renée": ("Renee",),
    "Zoltán": ("Zoltan",),
    "Jean-Paul": ("Jean Paul", "JP"),
    "Mary-Jane": ("Mary Jane", "Mary"),
    "Ann-Marie": ("Anne-Marie", "Annmarie"),
}

STREET_STEMS: tuple[str, ...] = (
    "High", "Church", "Mill", "Station", "Victoria", "Park", "Manor", "Oak",
    "Meadow", "Chapel", "Brook", "Orchard", "Willow", "Cedar", "Beech",
    "Ashleigh", "Fernhill", "Kingsway", "Queens", "Albion", "Wharf", "Foxglove",
    "Hawthorn", "Linden", "Sycamore", "Rowan", "Heron", "Kestrel", "Swallow",
    "Primrose", "Bluebell", "Clover", "Thistle", "Granville", "Harcourt",
    "Lorimer", "Penhallow", "Quarrydale", "Ravensworth", "Saxby", "Tanfield",
    "Ulverley", "Wexcombe", "Yarrowby", "Brindle", "Copperfield", "Dunmore",
    "Elmsleigh", "Fairholme", "Glenbrook", "Hollowell", "Ivydene", "Juniper",
    "Larkspur", "Mayfield", "Netherby", "Oakridge", "Pinfold", "Redhill",
    "Stonebridge", "Thornton", "Upton", "Wyvern", "St Mary's", "O'Hara",
)  # fmt: skip

# (full form, common abbreviation) of street types.
STREET_TYPES: tuple[tuple[str, str], ...] = (
    ("Street", "St"), ("Road", "Rd"), ("Avenue", "Ave"), ("Close", "Cl"),
    ("Lane", "Ln"), ("Drive", "Dr"), ("Way", "Way"), ("Crescent", "Cres"),
    ("Gardens", "Gdns"), ("Terrace", "Terr"),
)  # fmt: skip

# Invented towns/estates and local policing units of the synthetic force.
TOWNS: tuple[str, ...] = (
    "Ashby Vale", "Brackenfield", "Castleford Heath", "Dunholme", "Elmbridge",
    "Fosseway", "Glenmoor", "Harwick", "Ivelthorpe", "Kirkby Soar",
    "Langmere", "Midford", "Northwick", "Oakhampstead", "Pellingham",
    "Quenby Cross", "Rothwell Green", "Sileby Marsh", "Thurnby Dale", "Wreake End",
)  # fmt: skip

AREAS: tuple[str, ...] = (
    "City Centre LPU", "City East LPU", "City West LPU", "Charnwood North LPU",
    "Charnwood South LPU", "Soar Valley LPU", "Wreake Valley LPU",
    "Fosse Vale LPU", "Harborough Rural LPU", "Melton Wolds LPU",
    "Hinckley Heath LPU", "Coalfields LPU",
)  # fmt: skip

PUBLIC_PLACES: tuple[str, ...] = (
    "outside", "car park,", "near", "junction of", "bus stop,", "rear of",
)  # fmt: skip

POSTCODE_AREA = "LE"
POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # letters used in inward codes


def zipf_weights(n: int, s: float = 1.0, k: float = 2.0) -> np.ndarray:
    """Skewed probabilities for a list ordered from most to least common."""
    w = 1.0 / (np.arange(n, dtype=float) + k) ** s
    return w / w.sum()
