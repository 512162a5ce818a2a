package io.switchboard.store;

import org.springframework.data.annotation.Id;
import org.springframework.data.mongodb.core.mapping.Document;

import java.util.List;

/**
 * All messages of one conversation in one document: appending is a single-document atomic
 * update guarded by the message key, which makes it idempotent without transactions.
 */
@Document(Transcript.COLLECTION)
public record Transcript(@Id String id, List<Message> messages) {

    public static final String COLLECTION = "transcripts";

    public Transcript {
        messages = messages == null ? List.of() : List.copyOf(messages);
    }
}
