qorgan-signature-v1
key-id fe812c12f3ab4ce6
algorithm ed25519
signature 19361377da546cb04a150cfe294724f66fa897bc2e5d3a1fc7a64b30dc9bbec794477c60fb89f7401814d10562306c6c5c4e4a2b240d9dea7b9f1e821ca26204

qorgan-pack-signature-v1
manifest {"name":"fuzz","plugin":[{"component":"plugins/rule.wasm","id":"rule","sha256":"163b41fe0cc9e387860689c62e9d7aac2a0f49e4b84a0666efc867031bab9fbe"}],"serial":1,"version":"1.0.0"}
file 163b41fe0cc9e387860689c62e9d7aac2a0f49e4b84a0666efc867031bab9fbe plugins/rule.wasm
