"""Publishing to the queue trigger's sources: RabbitMQ (AMQP), Redis streams and NATS."""
