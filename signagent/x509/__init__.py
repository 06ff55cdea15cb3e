"""Certificate model: loading any encoding, qualified-certificate identity (ФИО, ОГРН, ИНН, СНИЛС...)."""
