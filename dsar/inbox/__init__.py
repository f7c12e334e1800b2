"""dsar inbox: replies read from a mailbox, matched to their request, and their meaning.

reading (sources), what a message says (parse), which request it answers (match), what it
means (meaning), what the inbox remembers (store) and what it records (apply). Only
apply.py writes to the journal, through the App's public methods.
"""
