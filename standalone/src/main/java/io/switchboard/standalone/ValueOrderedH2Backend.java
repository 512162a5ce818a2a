package io.switchboard.standalone;

import de.bwaldvogel.mongo.MongoCollection;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.backend.AbstractUniqueIndex;
import de.bwaldvogel.mongo.backend.ArrayFilters;
import de.bwaldvogel.mongo.backend.CollectionOptions;
import de.bwaldvogel.mongo.backend.CursorRegistry;
import de.bwaldvogel.mongo.backend.Index;
import de.bwaldvogel.mongo.backend.IndexKey;
import de.bwaldvogel.mongo.backend.KeyValue;
import de.bwaldvogel.mongo.backend.Missing;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.ValueComparator;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.backend.h2.H2Collection;
import de.bwaldvogel.mongo.backend.h2.H2Database;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.oplog.Oplog;
import de.bwaldvogel.mongo.wire.BsonConstants;
import de.bwaldvogel.mongo.wire.bson.BsonDecoder;
import de.bwaldvogel.mongo.wire.bson.BsonEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.ObjectDataType;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * mongo-java-server's H2 backend with three changes: its unique indexes (every {@code _id} and the
 * store's {@code (_id, _v)}) order their keys by value instead of by their Java-serialized bytes,
 * documents are stored as BSON instead of Java-serialized ({@link BsonDocumentType}), and an update
 * changes a copy of the stored document instead of the stored one ({@link CopyOnUpdateCollection}).
 *
 * <p>Why: H2 compares keys it does not know (mongo-java-server's {@code KeyValue}) by serializing
 * both sides with {@code ObjectOutputStream} on every comparison of every B-tree search. The
 * pipeline profile showed that as about 40% of the embedded store's time (ADR 0003). Keys are
 * still written to the file in H2's format; only the order differs, so these indexes live in maps
 * of their own name ({@code ._vindex_}), built from the documents on the first start after an
 * upgrade, while the maps of the old order are left unused.
 */
final class ValueOrderedH2Backend extends H2Backend {

    ValueOrderedH2Backend(MVStore store) {
        super(store);
    }

    @Override
    protected MongoDatabase openOrCreateDatabase(String databaseName) {
        return ValueOrderedDatabase.open(databaseName, getMvStore(), getCursorRegistry());
    }

    /** Orders {@code KeyValue}s element by element with MongoDB's comparison of values. */
    static final class KeyValueType extends ObjectDataType {
        private static final ValueComparator VALUES = ValueComparator.asc();

        @Override
        public int compare(Object a, Object b) {
            if (a instanceof KeyValue x && b instanceof KeyValue y) {
                int n = Math.min(x.size(), y.size());
                for (int i = 0; i < n; i++) {
                    int c = VALUES.compare(x.get(i), y.get(i));
                    if (c != 0) {
                        return c;
                    }
                }
                return Integer.compare(x.size(), y.size());
            }
            return super.compare(a, b);
        }
    }

    static final class ValueOrderedDatabase extends H2Database {

        /** The store while the super constructor opens the existing indexes (before this class's fields are set). */
        private static final ThreadLocal<MVStore> OPENING = new ThreadLocal<>();
        private final MVStore store;

        static ValueOrderedDatabase open(String name, MVStore store, CursorRegistry cursors) {
            OPENING.set(store);
            try {
                return new ValueOrderedDatabase(name, store, cursors);
            } finally {
                OPENING.remove();
            }
        }

        private ValueOrderedDatabase(String name, MVStore store, CursorRegistry cursors) {
            super(name, store, cursors);
            this.store = store;
        }

        private MVStore store() {
            return store != null ? store : OPENING.get();
        }

        private String mapName(String collectionName, String indexName) {
            return getFullCollectionNamespace(collectionName) + "._vindex_" + indexName;
        }

        @Override
        protected MongoCollection<Object> openOrCreateCollection(String collectionName, CollectionOptions options) {
            String name = getFullCollectionNamespace(collectionName);
            // the names mongo-java-server gives these maps (H2Database): its drop, rename and listing find them
            MVMap<Object, Document> data = store().openMap("databases." + name,
                    new MVMap.Builder<Object, Document>().valueType(new BsonDocumentType()));
            MVMap<String, Object> meta = store().openMap("meta." + name);
            return new CopyOnUpdateCollection(this, collectionName, options, data, meta, cursorRegistry);
        }

        @Override
        protected Index<Object> openOrCreateUniqueIndex(String collectionName, String indexName, List<IndexKey> keys,
                                                        boolean sparse) {
            MVMap<KeyValue, Object> map = store().openMap(mapName(collectionName, indexName),
                    new MVMap.Builder<KeyValue, Object>().keyType(new KeyValueType()));
            return new ValueOrderedIndex(map, indexName, keys, sparse);
        }

        @Override
        protected void dropIndex(MongoCollection<Object> collection, String indexName) {
            super.dropIndex(collection, indexName);
            store().removeMap(mapName(collection.getCollectionName(), indexName));
        }
    }

    /**
     * mongo-java-server updates a document by changing the very object H2 holds in its pages, then puts it
     * back. H2 writes pages on its own thread while other commands run ({@code H2-serialization}), and the
     * page of the version before the update holds the same object. A field added or removed while that thread
     * encoded the document threw ConcurrentModificationException there, and H2 2.4 does not recover from an
     * exception on that thread: the chunk it was writing is never saved, its next write waits for that chunk
     * for ever, and every commit after it hangs (the whole pipeline stood still in a benchmark run). A field
     * changed in place could also be written half old, half new into the file's previous version, and a
     * response being encoded for another connection could see the same. So an update works on a deep copy:
     * the object in the map is never changed after it is put there, and the copy replaces it.
     */
    static final class CopyOnUpdateCollection extends H2Collection {
        /** Set while this thread runs an update; queries then hand out copies. */
        private static final ThreadLocal<Boolean> UPDATING = ThreadLocal.withInitial(() -> Boolean.FALSE);

        CopyOnUpdateCollection(MongoDatabase database, String name, CollectionOptions options, MVMap<Object, Document> data,
                               MVMap<String, Object> meta, CursorRegistry cursors) {
            super(database, name, options, data, meta, cursors);
        }

        @Override
        public Document updateDocuments(Document selector, Document update, ArrayFilters arrayFilters, boolean multi,
                                        boolean upsert, Oplog oplog) {
            return updating(() -> super.updateDocuments(selector, update, arrayFilters, multi, upsert, oplog));
        }

        @Override
        public Document findAndModify(Document query) {
            return updating(() -> super.findAndModify(query));
        }

        private static Document updating(Supplier<Document> update) {
            if (UPDATING.get()) {
                return update.get();
            }
            UPDATING.set(Boolean.TRUE);
            try {
                return update.get();
            } finally {
                UPDATING.set(Boolean.FALSE);
            }
        }

        /** The documents an update is about to change, as copies (both update paths find them here). */
        @Override
        protected QueryResult queryDocuments(Document query, Document orderBy, int skip, int limit, int batchSize,
                                             Document fieldSelector) {
            QueryResult found = super.queryDocuments(query, orderBy, skip, limit, batchSize, fieldSelector);
            if (!UPDATING.get()) {
                return found;
            }
            List<Document> copies = new ArrayList<>();
            for (Document document : found) {
                copies.add(document.cloneDeeply());
            }
            return new QueryResult(copies, found.getCursorId());
        }
    }

    /**
     * Documents as BSON in H2's pages instead of Java serialization. H2 writes a value it has no type for
     * with {@code ObjectOutputStream}, a stream of its own with every class description, and reads it back
     * with {@code ObjectInputStream}, for every document of a page it writes at a commit or reads after the
     * page cache let it go. With BSON the pipeline benchmark's store CPU per routed message fell by a fifth
     * and H2's serialization thread's by 40% (ADR 0010). BSON is what mongo-java-server speaks on the wire,
     * so every value it stores has an encoding.
     *
     * <p>Values keep H2's first byte, its type tag; BSON ones get {@link #TAG}, a tag H2 does not use.
     * Values written before, with Java serialization, are still read through H2's own type, and written
     * as BSON when their page is next written, so a file from an earlier release needs no migration (but
     * an earlier release cannot read a file written by this one). A document BSON has no type for (none is
     * known) or that is larger than BSON allows falls back to Java serialization rather than failing the
     * commit or a later read.
     */
    static final class BsonDocumentType extends ObjectDataType {
        /** H2's tags end at 119 ({@code TAG_BYTE_ARRAY_0_15} + 15). */
        static final byte TAG = 126;
        /** H2's page cache counts values by this estimate of their size in memory. */
        private int averageMemory = 10_000;

        @Override
        public int getMemory(Object obj) {
            return obj instanceof Document ? averageMemory : super.getMemory(obj);
        }

        @Override
        public void write(WriteBuffer buff, Object obj) {
            if (!(obj instanceof Document document)) {
                super.write(buff, obj);
                return;
            }
            ByteBuf bson = Unpooled.buffer(512);
            try {
                BsonEncoder.encodeDocument(document, bson);
            } catch (IllegalArgumentException noBsonType) {
                super.write(buff, obj);
                return;
            }
            int size = bson.readableBytes();
            if (size > BsonConstants.MAX_BSON_OBJECT_SIZE) {
                // the store grows documents past 16 MB by server-side updates (a long transcript's $push), which
                // mongo-java-server allows, but its decoder refuses to read such BSON back
                super.write(buff, obj);
                return;
            }
            estimate(size);
            buff.put(TAG).put(bson.array(), bson.arrayOffset() + bson.readerIndex(), size);
        }

        /** As H2's estimate for serialized objects, a moving average; objects take several times their BSON. */
        private void estimate(int bsonSize) {
            averageMemory = (int) ((bsonSize * 4L + 15L * averageMemory) / 16);
        }

        @Override
        public Object read(ByteBuffer buff) {
            if (buff.get(buff.position()) != TAG) {
                return super.read(buff);
            }
            ByteBuf bson = Unpooled.wrappedBuffer(buff.position(buff.position() + 1).slice());
            Document document = BsonDecoder.decodeBson(bson);
            buff.position(buff.position() + bson.readerIndex());
            estimate(bson.readerIndex());
            return document;
        }
    }

    /** H2's unique index over a map with {@link KeyValueType} keys. */
    static final class ValueOrderedIndex extends AbstractUniqueIndex<Object> {
        private final MVMap<KeyValue, Object> map;

        ValueOrderedIndex(MVMap<KeyValue, Object> map, String name, List<IndexKey> keys, boolean sparse) {
            super(name, keys, sparse);
            this.map = map;
        }

        @Override
        protected Object removeDocument(KeyValue key) {
            return map.remove(key);
        }

        @Override
        protected boolean putKeyPosition(KeyValue key, Object position) {
            return map.putIfAbsent(key, Missing.ofNullable(position)) == null;
        }

        @Override
        protected Iterable<Map.Entry<KeyValue, Object>> getIterable() {
            return map.entrySet();
        }

        @Override
        protected Object getPosition(KeyValue key) {
            return map.get(key);
        }

        @Override
        public long getCount() {
            return map.sizeAsLong();
        }

        @Override
        public boolean isEmpty() {
            return map.isEmpty();
        }

        @Override
        public long getDataSize() {
            return getCount();
        }
    }
}
