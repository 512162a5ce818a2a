package io.switchboard.channel.email;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.DeliveryReport;
import io.switchboard.contract.OutboundCommand;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.time.Clock;
import java.util.concurrent.TimeUnit;

/**
 * Sends agents' replies over SMTP and reports each outcome. The report of a sent reply carries
 * our Message-ID as externalId, which is how the router later matches a bounce or an echo of it.
 * 4xx replies and connection failures are retried with backoff; 5xx fail at once with the
 * server's text, which agents see.
 */
@Component
class EmailSender {

    private static final Logger log = LoggerFactory.getLogger(EmailSender.class);

    private final EmailProperties properties;
    private final EmailClient client;
    private final KafkaTemplate<String, byte[]> kafka;
    private final Clock clock;
    private final Sleeper sleeper;

    EmailSender(EmailProperties properties, EmailClient client, KafkaTemplate<String, byte[]> kafka,
                ObjectProvider<Clock> clock, ObjectProvider<Sleeper> sleeper) {
        this.properties = properties;
        this.client = client;
        this.kafka = kafka;
        this.clock = clock.getIfAvailable(Clock::systemUTC);
        this.sleeper = sleeper.getIfAvailable(() -> Thread::sleep);
    }

    /** Waits between attempts; replaceable in tests. */
    @FunctionalInterface
    interface Sleeper {
        void sleep(long millis) throws InterruptedException;
    }

    @KafkaListener(id = "email-sender", containerFactory = "emailListenerFactory",
            topics = "#{T(io.switchboard.contract.Topics).outbound(T(io.switchboard.contract.Channel).EMAIL)}",
            groupId = "switchboard-channel-email",
            properties = "group.instance.id=email-${switchboard.instance-id}")
    void onCommand(ConsumerRecord<String, byte[]> record) throws Exception {
        OutboundCommand command;
        try {
            command = ContractJson.fromBytes(record.value(), OutboundCommand.class);
        } catch (ContractJson.UndecodableRecordException e) {
            log.warn("skipping undecodable outbound command at {}-{}@{}", record.topic(), record.partition(), record.offset());
            return;
        }
        DeliveryReport report = send(command);
        kafka.send(Topics.DELIVERY_REPORTS, command.conversationId(), ContractJson.toBytes(report)).get(30, TimeUnit.SECONDS);
    }

    DeliveryReport send(OutboundCommand command) throws InterruptedException {
        EmailProperties.Account account = properties.account(command.account());
        if (account == null || !account.sends()) {
            return DeliveryReport.failed(command, "email account '" + command.account() + "' has no SMTP configured", 0, clock.instant());
        }
        EmailClient.Result result = null;
        int attempts = 0;
        for (int attempt = 1; attempt <= properties.sendAttempts(); attempt++) {
            attempts++;
            result = client.send(account, command, clock.instant());
            if (result.ok() || !result.transientFailure()) {
                break;
            }
            if (attempt < properties.sendAttempts()) {
                sleeper.sleep(Math.min(60_000, 1000L << attempt));
            }
        }
        if (result.ok()) {
            return DeliveryReport.sent(command, result.messageId(), attempts, clock.instant());
        }
        log.warn("email reply {} failed after {} attempt(s)", command.messageId(), attempts);
        return DeliveryReport.failed(command, result.reason(), attempts, clock.instant());
    }
}
