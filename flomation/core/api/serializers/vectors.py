"""A vector collection as the API shows it (its documents stay in the store)."""

from rest_framework import serializers


class VectorCollectionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    dimension = serializers.IntegerField()
    metric = serializers.ChoiceField(choices=["cosine", "l2", "inner_product"])
    documents = serializers.IntegerField()
    created_at = serializers.DateTimeField()
