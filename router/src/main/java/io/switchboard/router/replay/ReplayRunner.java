package io.switchboard.router.replay;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.ConversationEvent;
import io.switchboard.contract.ReplayRequest;
import io.switchboard.contract.Topics;
import io.switchboard.router.RouterProperties;
import io.switchboard.router.ingest.ConversationEvents;
import io.switchboard.router.ingest.DeadLetters;
import io.switchboard.router.ingest.RecordProcessor;
import io.switchboard.store.StoreDurability;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.bson.Document;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.kafka.autoconfigure.KafkaProperties;
import org.springframework.context.event.EventListener;
import org.springframework.data.mongodb.core.MongoTemplate;
import org.springframework.data.mongodb.core.query.Query;
import org.springframework.data.mongodb.core.query.Update;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.springframework.data.mongodb.core.query.Criteria.where;

/**
 * Re-normalizes raw inbound events of a channel and time range, on request (ADR 0005). The
 * request is accepted durably (a {@code replays} document owned by this instance) before its
 * offset is committed, and run on a background thread; an instance that restarts resumes the
 * replays it owned. Replays write through the same idempotent path as live traffic, refreshing
 * stored messages from the fresh normalization, so running one twice changes nothing more.
 */
@Component
public class ReplayRunner implements DisposableBean {

    public static final String REPLAYS = "replays";
    private static final Logger log = LoggerFactory.getLogger(ReplayRunner.class);

    private final MongoTemplate mongo;
    private final RecordProcessor processor;
    private final ConversationEvents events;
    private final DeadLetters deadLetters;
    private final KafkaProperties kafka;
    private final RouterProperties properties;
    private final StoreDurability durability;
    private final Clock clock;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "replay");
        t.setDaemon(true);
        return t;
    });

    public ReplayRunner(MongoTemplate mongo, RecordProcessor processor, ConversationEvents events, DeadLetters deadLetters,
                        KafkaProperties kafka, RouterProperties properties, ObjectProvider<StoreDurability> durability,
                        ObjectProvider<Clock> clock) {
        this.mongo = mongo;
        this.processor = processor;
        this.events = events;
        this.deadLetters = deadLetters;
        this.kafka = kafka;
        this.properties = properties;
        this.durability = durability.getIfAvailable(() -> StoreDurability.NONE);
        this.clock = clock.getIfAvailable(Clock::systemUTC);
    }

    @KafkaListener(id = "router-replay", containerFactory = "routerListenerFactory", topics = Topics.CONTROL_REPLAY,
            groupId = "${switchboard.router.group-id}-replay",
            properties = "group.instance.id=${switchboard.router.instance-id}-replay")
    public void onRequests(List<ConsumerRecord<String, byte[]>> records) {
        List<CompletableFuture<?>> pending = new ArrayList<>();
        List<ReplayRequest> accepted = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            try {
                ReplayRequest request = ContractJson.fromBytes(record.value(), ReplayRequest.class);
                Document d = mongo.findAndModify(Query.query(where("_id").is(request.requestId())),
                        new Update().setOnInsert("state", "accepted").setOnInsert("requestedAt", request.requestedAt())
                                .setOnInsert("channel", request.channel() == null ? null : request.channel().wire())
                                .setOnInsert("from", request.from()).setOnInsert("to", request.to())
                                .setOnInsert("requestedBy", request.requestedBy()).set("owner", properties.instanceId()),
                        org.springframework.data.mongodb.core.FindAndModifyOptions.options().upsert(true).returnNew(true),
                        Document.class, REPLAYS);
                if (!"finished".equals(d.getString("state"))) {
                    accepted.add(request);
                }
            } catch (ContractJson.UndecodableRecordException e) {
                pending.add(deadLetters.park(record, e.getMessage()));
            }
        }
        durability.commit();
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
        accepted.forEach(r -> executor.submit(() -> run(r)));
    }

    /** Replays this instance accepted but did not finish before it stopped. */
    @EventListener(ApplicationReadyEvent.class)
    public void resume() {
        for (Document d : mongo.find(Query.query(where("owner").is(properties.instanceId()).and("state").in("accepted", "running")),
                Document.class, REPLAYS)) {
            String channel = d.getString("channel");
            ReplayRequest r = new ReplayRequest(ReplayRequest.SCHEMA_VERSION, d.getString("_id"),
                    channel == null ? null : Channel.fromWire(channel), d.getDate("from").toInstant(),
                    d.getDate("to") == null ? null : d.getDate("to").toInstant(), d.getString("requestedBy"),
                    d.getDate("requestedAt") == null ? clock.instant() : d.getDate("requestedAt").toInstant());
            executor.submit(() -> run(r));
        }
    }

    void run(ReplayRequest request) {
        Query self = Query.query(where("_id").is(request.requestId()));
        mongo.updateFirst(self, new Update().set("state", "running").set("startedAt", clock.instant()), REPLAYS);
        durability.commit();
        List<String> topics = request.channel() == null ? Topics.allInbound() : List.of(Topics.inbound(request.channel()));
        long applied = 0;
        long deadLettered = 0;
        try (KafkaConsumer<String, byte[]> consumer = consumer()) {
            Map<TopicPartition, Long> ends = new HashMap<>();
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : topics) {
                List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(10));
                if (infos != null) {
                    infos.forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
                }
            }
            consumer.assign(partitions);
            Map<TopicPartition, Long> fromTimes = new HashMap<>();
            partitions.forEach(tp -> fromTimes.put(tp, request.from().toEpochMilli()));
            Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(fromTimes, Duration.ofSeconds(10));
            Map<TopicPartition, Long> endOffsets = consumer.endOffsets(partitions, Duration.ofSeconds(10));
            Map<TopicPartition, OffsetAndTimestamp> stops = new HashMap<>();
            if (request.to() != null) {
                Map<TopicPartition, Long> toTimes = new HashMap<>();
                partitions.forEach(tp -> toTimes.put(tp, request.to().toEpochMilli()));
                stops = consumer.offsetsForTimes(toTimes, Duration.ofSeconds(10));
            }
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp start = starts.get(tp);
                OffsetAndTimestamp stop = stops.get(tp);
                long end = stop != null ? stop.offset() : endOffsets.getOrDefault(tp, 0L);
                long begin = start == null ? end : start.offset();
                consumer.seek(tp, begin);
                if (begin < end) {
                    ends.put(tp, end);
                }
            }
            while (!ends.isEmpty()) {
                List<CompletableFuture<?>> pending = new ArrayList<>();
                List<ConversationEvent> changes = new ArrayList<>();
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                    Long end = ends.get(tp);
                    if (end == null || record.offset() >= end) {
                        continue;
                    }
                    if (processor.process(record, pending, changes, true) == RecordProcessor.Outcome.APPLIED) {
                        applied++;
                    } else {
                        deadLettered++;
                    }
                }
                durability.commit();
                pending.addAll(events.publish(changes));
                CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).join();
                ends.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
                mongo.updateFirst(self, new Update().set("applied", applied).set("deadLettered", deadLettered), REPLAYS);
            }
            mongo.updateFirst(self, new Update().set("state", "finished").set("finishedAt", clock.instant())
                    .set("applied", applied).set("deadLettered", deadLettered), REPLAYS);
            log.info("replay {} finished: {} events applied, {} dead-lettered", request.requestId(), applied, deadLettered);
        } catch (RuntimeException e) {
            log.warn("replay {} failed: {}", request.requestId(), e.toString());
            mongo.updateFirst(self, new Update().set("state", "failed").set("error", e.toString()), REPLAYS);
        }
        durability.commit();
    }

    private KafkaConsumer<String, byte[]> consumer() {
        Map<String, Object> config = kafka.buildConsumerProperties();
        config.remove(ConsumerConfig.GROUP_ID_CONFIG);
        config.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500);
        return new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    @Override
    public void destroy() {
        executor.shutdownNow();
    }
}
