qorgan-signature-v1
key-id 0123456789abcdef
algorithm rsa
signature zz

not a statement