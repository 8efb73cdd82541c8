"""Pure rules of Peerboard: no I/O, no Discord, no database, no clock."""
