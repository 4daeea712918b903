pragma circom 2.0.0;

// Membership at depth 6 (up to 64 boards): the main component for this depth.
include "membership.circom";

component main { public [root, challenge] } = Membership(6);
