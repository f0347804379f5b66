"""The `pb` fixture (Google protobuf + grpcio from our .proto files) is in tests/conftest.py."""
