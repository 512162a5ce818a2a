package io.switchboard.api.operations;

import io.switchboard.api.ApiException;
import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ReplayRequest;
import io.switchboard.contract.Topics;
import io.switchboard.store.StoreDurability;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.Document;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Operators' tools for the pipeline (role admin): replaying raw events after a normalizer fix,
 * and listing and replaying dead letters.
 */
@RestController
@RequestMapping("/api/admin")
class OperationsController {

    static final String REPLAYS = "replays";

    private final KafkaTemplate<String, byte[]> kafka;
    private final KafkaProperties kafkaProperties;
    private final MongoTemplate mongo;
    private final StoreDurability durability;
    private final Clock clock;

    OperationsController(KafkaTemplate<String, byte[]> kafka, KafkaProperties kafkaProperties, MongoTemplate mongo,
                         ObjectProvider<StoreDurability> durability, ObjectProvider<Clock> clock) {
        this.kafka = kafka;
        this.kafkaProperties = kafkaProperties;
        this.mongo = mongo;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    record ReplayBody(String channel, String from, String to) {
    }

    /**
     * Re-normalizes the raw events of a channel (or all) received in [from, to). The router runs
     * it in the background; GET /api/admin/replays/{id} shows progress.
     */
    @PostMapping("/replay")
    ResponseEntity<Map<String, Object>> replay(@RequestBody ReplayBody body, Authentication user) {
        if (body == null || body.from() == null) {
            throw ApiException.badRequest("from (an ISO-8601 instant) is required");
        }
        Channel channel = null;
        if (body.channel() != null && !body.channel().isBlank()) {
            try {
                channel = Channel.fromWire(body.channel());
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest(e.getMessage());
            }
        }
        Instant from = instant(body.from(), "from");
        Instant to = body.to() == null || body.to().isBlank() ? null : instant(body.to(), "to");
        if (to != null && !to.isAfter(from)) {
            throw ApiException.badRequest("to must be after from");
        }
        Instant now = clock.instant();
        ReplayRequest request = new ReplayRequest(ReplayRequest.SCHEMA_VERSION, UUID.randomUUID().toString(), channel, from, to,
                user.getName(), now);
        mongo.insert(new Document("_id", request.requestId()).append("state", "requested").append("requestedAt", now)
                .append("channel", channel == null ? null : channel.wire()).append("from", from).append("to", to)
                .append("requestedBy", user.getName()), REPLAYS);
        durability.commit();
        send(new ProducerRecord<>(Topics.CONTROL_REPLAY, request.requestId(), ContractJson.toBytes(request)));
        return ResponseEntity.status(HttpStatus.ACCEPTED).body(Map.of("id", request.requestId(), "state", "requested",
                "status", "/api/admin/replays/" + request.requestId()));
    }

    @GetMapping("/replays/{id}")
    Map<String, Object> replayStatus(@PathVariable String id) {
        Document d = mongo.findById(id, Document.class, REPLAYS);
        if (d == null) {
            throw ApiException.notFound("no replay " + id);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", d.getString("_id"));
        for (String key : List.of("state", "channel", "from", "to", "requestedBy", "requestedAt", "startedAt", "finishedAt",
                "applied", "deadLettered", "error")) {
            Object v = d.get(key);
            out.put(key, v instanceof java.util.Date date ? date.toInstant() : v);
        }
        return out;
    }

    record DeadLetter(int partition, long offset, String key, Instant at, String reason, String originalTopic,
                      Integer originalPartition, Long originalOffset, int size) {
    }

    /** The newest dead letters, newest last; bodies are not shown (they may hold personal data). */
    @GetMapping("/deadletters")
    List<DeadLetter> deadLetters(@RequestParam(defaultValue = "50") int limit) {
        if (limit < 1 || limit > 500) {
            throw ApiException.badRequest("limit must be between 1 and 500");
        }
        List<DeadLetter> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            List<TopicPartition> partitions = partitions(consumer);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(5));
            Map<TopicPartition, Long> remaining = new LinkedHashMap<>();
            for (TopicPartition tp : partitions) {
                long end = ends.getOrDefault(tp, 0L);
                consumer.seek(tp, Math.max(0, end - limit));
                if (end > 0) {
                    remaining.put(tp, end);
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!remaining.isEmpty() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                    out.add(new DeadLetter(r.partition(), r.offset(), r.key(), Instant.ofEpochMilli(r.timestamp()),
                            header(r, Topics.HEADER_DLT_REASON), header(r, Topics.HEADER_DLT_ORIGINAL_TOPIC),
                            number(header(r, Topics.HEADER_DLT_ORIGINAL_PARTITION)) == null ? null
                                    : number(header(r, Topics.HEADER_DLT_ORIGINAL_PARTITION)).intValue(),
                            number(header(r, Topics.HEADER_DLT_ORIGINAL_OFFSET)), r.value() == null ? 0 : r.value().length));
                }
                remaining.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
            }
        }
        out.sort(java.util.Comparator.comparing(DeadLetter::at));
        return out.size() > limit ? out.subList(out.size() - limit, out.size()) : out;
    }

    /** Sends one dead letter back to the topic it came from, unchanged; the router processes it again. */
    @PostMapping("/deadletters/{partition}/{offset}/replay")
    ResponseEntity<Map<String, Object>> replayDeadLetter(@PathVariable int partition, @PathVariable long offset) {
        ConsumerRecord<String, byte[]> found = null;
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            TopicPartition tp = new TopicPartition(Topics.ROUTER_DEAD_LETTER, partition);
            if (!partitions(consumer).contains(tp)) {
                throw ApiException.notFound("no dead-letter partition " + partition);
            }
            long end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(5)).getOrDefault(tp, 0L);
            if (offset < 0 || offset >= end) {
                throw ApiException.notFound("no dead letter at " + partition + "/" + offset);
            }
            consumer.assign(List.of(tp));
            consumer.seek(tp, offset);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (found == null && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(300))) {
                    if (r.offset() == offset) {
                        found = r;
                    }
                }
            }
        }
        if (found == null) {
            throw ApiException.notFound("no dead letter at " + partition + "/" + offset);
        }
        String topic = header(found, Topics.HEADER_DLT_ORIGINAL_TOPIC);
        if (topic == null || !topic.startsWith("inbox.")) {
            throw new ApiException(HttpStatus.CONFLICT, "the dead letter does not say where it came from");
        }
        send(new ProducerRecord<>(topic, found.key(), found.value()));
        mongo.upsert(Query.query(where("_id").is("dlt:" + partition + ":" + offset)),
                new Update().set("replayedAt", clock.instant()).set("topic", topic), REPLAYS);
        durability.commit();
        return ResponseEntity.status(HttpStatus.ACCEPTED).body(Map.of("replayedTo", topic, "partition", partition, "offset", offset));
    }

    private List<TopicPartition> partitions(KafkaConsumer<String, byte[]> consumer) {
        List<PartitionInfo> infos = consumer.partitionsFor(Topics.ROUTER_DEAD_LETTER, Duration.ofSeconds(5));
        List<TopicPartition> partitions = new ArrayList<>();
        if (infos != null) {
            infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        }
        consumer.assign(partitions);
        return partitions;
    }

    private void send(ProducerRecord<String, byte[]> record) {
        try {
            kafka.send(record).get(15, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "message broker unavailable, try again");
        }
    }

    private KafkaConsumer<String, byte[]> consumer() {
        Map<String, Object> config = kafkaProperties.buildConsumerProperties();
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private static String header(ConsumerRecord<?, ?> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private static Long number(String s) {
        try {
            return s == null ? null : Long.valueOf(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Instant instant(String value, String name) {
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw ApiException.badRequest(name + " must be an ISO-8601 instant like 2025-03-12T15:46:45Z");
        }
    }
}
