package io.switchboard.channel.social.vk;

import io.switchboard.contract.ContractJson;
import io.switchboard.contract.DeliveryReport;
import org.apache.kafka.clients.consumer.Consumer;
import org.springframework.kafka.test.utils.KafkaTestUtils;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting helpers for the adapter tests. */
final class Awaiting {

    static DeliveryReport report(Consumer<String, byte[]> reports, String messageId) {
        long deadline = System.currentTimeMillis() + 20_000;
        while (System.currentTimeMillis() < deadline) {
            for (var r : KafkaTestUtils.getRecords(reports, Duration.ofMillis(300))) {
                DeliveryReport report = ContractJson.fromBytes(r.value(), DeliveryReport.class);
                if (report.messageId().equals(messageId)) {
                    return report;
                }
            }
        }
        throw new AssertionError("no delivery report for " + messageId);
    }

    static void until(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("condition not met within 20 s");
            }
            Thread.sleep(50);
        }
    }

    private Awaiting() {
    }
}
