//! PKCS#11 key source (feature `pkcs11`): signs with a key that never
//! leaves the token.
