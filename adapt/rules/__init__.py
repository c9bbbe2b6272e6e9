"""Each domain rule once: the suspect–victim pairs of an incident, harm per
incident, the SafeLives repeat rule, name folding, postcode and address
normalisation. Pure functions over DataFrames; every stage that needs a rule
calls it here."""
