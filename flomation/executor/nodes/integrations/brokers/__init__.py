"""Message brokers: MQTT (publish, request/reply, waiting for a message, retained messages) and publishing to
the sources the queue trigger reads (RabbitMQ over AMQP, Redis streams, NATS)."""

from flomation.executor.nodes.integrations.brokers import mqtt, queues

__all__ = ["mqtt", "queues"]
