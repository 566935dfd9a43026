"""Creates a chunk collection the way an operator might by hand, with pymilvus: embedstream's
schema and id-scheme stamp, but doc_id limited to 64 characters (the sample corpus uses up to 61), so that Milvus itself refuses
a row with a longer doc_id (what PoisonRecordsITCase needs: a write Milvus rejects).

It is created under the name, and with the stamps, of the job's vector space, and the alias
points at it, as the job itself would have made it.

usage: python precreate_collection.py URI COLLECTION DIMENSION ALIAS PROPERTY=VALUE...
"""
import sys

from pymilvus import DataType, MilvusClient

uri, name, dim, alias = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
properties = dict(arg.split("=", 1) for arg in sys.argv[5:])
client = MilvusClient(uri)
schema = client.create_schema(auto_id=False)
schema.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=600)
schema.add_field("doc_id", DataType.VARCHAR, max_length=64)
schema.add_field("tenant", DataType.VARCHAR, max_length=64, is_partition_key=True)
schema.add_field("chunk_index", DataType.INT32)
schema.add_field("text", DataType.VARCHAR, max_length=65535)
schema.add_field("content_hash", DataType.VARCHAR, max_length=64)
schema.add_field("metadata", DataType.JSON)
schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
index = client.prepare_index_params()
index.add_index(field_name="vector", index_type="AUTOINDEX", metric_type="COSINE")
client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong",
                         properties=properties)
client.create_alias(name, alias)
print(client.describe_collection(name).get("properties"))
