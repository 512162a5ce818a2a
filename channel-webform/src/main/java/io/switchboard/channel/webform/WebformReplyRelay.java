package io.switchboard.channel.webform;

import io.switchboard.contract.Channel;
import io.switchboard.contract.ContractJson;
import io.switchboard.contract.OutboundCommand;
import io.switchboard.contract.Topics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

import java.util.concurrent.TimeUnit;

/**
 * A form has no way back to the customer but the email address they gave: agents' replies to a
 * web form conversation are handed to the email channel (same message id, so channel-email's
 * delivery report lands on the reply, and its Message-ID derived from it threads the customer's answer).
 */
@Component
class WebformReplyRelay {

    private static final Logger log = LoggerFactory.getLogger(WebformReplyRelay.class);

    private final WebformProperties properties;
    private final KafkaTemplate<String, byte[]> kafka;

    WebformReplyRelay(WebformProperties properties, KafkaTemplate<String, byte[]> kafka) {
        this.properties = properties;
        this.kafka = kafka;
    }

    @KafkaListener(id = "webform-reply-relay", topics = "inbox.outbound.webform.v1", groupId = "switchboard-webform",
            containerFactory = "webformListenerFactory", autoStartup = "${switchboard.webform.relay-replies:true}",
            properties = "group.instance.id=webform-${switchboard.instance-id}")
    void relay(ConsumerRecord<String, byte[]> record) throws Exception {
        OutboundCommand reply;
        try {
            reply = ContractJson.fromBytes(record.value(), OutboundCommand.class);
        } catch (ContractJson.UndecodableRecordException e) {
            log.warn("web form reply at {}-{}@{} is not an OutboundCommand, skipped: {}", record.topic(), record.partition(),
                    record.offset(), e.getMessage());
            return;
        }
        OutboundCommand byEmail = new OutboundCommand(OutboundCommand.SCHEMA_VERSION, reply.messageId(), Channel.EMAIL,
                properties.replyEmailAccount(), reply.conversationId(), reply.recipient(), reply.text(), reply.subject(),
                reply.inReplyTo(), reply.references(), reply.attachments(), reply.requestedAt(), reply.author());
        // Blocking: the offset is committed only after the email channel has the command.
        kafka.send(Topics.outbound(Channel.EMAIL), record.key(), ContractJson.toBytes(byEmail)).get(15, TimeUnit.SECONDS);
    }
}
