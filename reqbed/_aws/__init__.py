"""The AWS protocol wing: what reqbed knows about AWS itself, independent of Bedrock's models.

Pure (no I/O): ``sigv4`` (signing), ``eventstream`` (the binary event-stream codec), ``clock``
(signing time and learned clock skew), ``credentials_types`` / ``credentials`` (credential and
region precedence, sources 1-3), ``api_keys`` (the Bedrock API key format), ``keystore``
(``put_key``). With I/O: ``credential_chain`` (botocore's default chain), ``sts`` (AssumeRole),
``mint_key`` (``bedrock_api_key``). Nothing here imports the pipeline, the families or the client.
"""
