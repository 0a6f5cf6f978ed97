"""Byte- and Arrow-level routines shared by the readers (connectors) and the cleaners: decoding
(`encoding`), Arrow buffer views (`buffers`), libc calls (`libc`), Vietnamese letters and syllables
(`vietnamese`)."""
