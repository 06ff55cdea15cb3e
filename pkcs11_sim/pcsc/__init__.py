"""The simulator's PC/SC face: a token served as an ISO/IEC 7816-4 card with a PKCS#15 application to a real
``pcscd`` through vsmartcard's ``vpcd`` reader driver.

* :mod:`.apdu` -- command APDU cases and status words;
* :mod:`.filesystem` -- the file tree and SELECT;
* :mod:`.pkcs15` -- the ISO/IEC 7816-15 files built from the token's certificates;
* :mod:`.card` -- the APDU dispatcher (:class:`~.card.Card`, its ATR);
* :mod:`.vpcd` -- the vpcd framing and the serve loop;
* :mod:`.server` -- the card server process and ``start`` / ``stop`` / ``running`` for the CLI.

``pkcs11-sim insert LABEL --pcsc [--reader N]`` starts a card, ``pkcs11-sim remove LABEL`` removes it.
"""
