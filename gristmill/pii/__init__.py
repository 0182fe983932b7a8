"""Privacy reduction (survey §4.1.2): PII and secrets found with presidio-analyzer, replaced.

``step`` is the ``pii`` step; ``analysis`` gives presidio's findings fast (``prescan`` picks
the lines and windows worth analysing, ``phone`` and ``phone_bounds`` spare most of
python-phonenumbers' work); ``recognizers`` and ``credentials`` are the recognizers,
``ner`` the optional spaCy NER, ``replace`` the replacement modes.
"""
