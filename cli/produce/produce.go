package produce

import (
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"samsa/cli/command"
)

const produceLong = `Reads records from stdin (or --file), one per line, and produces them to
TOPIC; a topic that does not exist is created if the broker allows it
(auto.create.topics.enable), as kcat and the Java producer get. A trailing
"\r\n" or "\n" is not part of the record.

At the end, prints a summary to stderr: records delivered, and failed.
Exits 1 if any record was not delivered: each record has --timeout to be
acknowledged, and when the brokers stop answering for --timeout the
command gives up, counting what is unacknowledged as failed. SIGINT (Ctrl-C)
or SIGTERM stops reading, waits up to a second for records already sent,
prints the summary and exits 130 (143 for SIGTERM).

--transactional-id ID produces in transactions of that transactional id
(KIP-98): a reader with isolation read_committed sees the records of a
transaction once it commits, and never those of one that aborts. The whole
input is one transaction, committed at its end, unless --txn-records N
commits every N records. A transaction in which a record failed, or that
the command was stopped in, is aborted: its records count as failed.
Starting with a transactional id fences any producer still using it.

--partitioner says how records are spread over partitions:
  hash         murmur2 of the key, as the Java client does; records without
               a key stick to a partition per batch (default)
  round-robin  one partition after the other
  sticky       one partition per batch, ignoring keys
  random       a partition at random per record
  manual       the partition given by -p/--partition (-p alone implies it)`

// NewCommand returns samsa produce.
func NewCommand(cf *command.ClientFlags) *cobra.Command {
	var (
		pf          command.ProducerFlags
		file        string
		keySep      string
		headers     []string
		partition   int
		partitioner string
		maxMsg      int
		verbose     bool
		txnID       string
		txnRecords  int64
		txnTimeout  time.Duration
	)
	c := &cobra.Command{
		Use:   "produce TOPIC [flags]",
		Short: "Produce lines from stdin as records",
		Long:  produceLong,
		Example: `  samsa produce events --key-separator : <<< 'user1:clicked'
  seq 1 1000 | samsa produce events -p 0 --acks 1
  seq 1 1000 | samsa produce events --transactional-id loader --txn-records 100`,
		Args:              command.ExactArgs(1, "exactly one TOPIC"),
		ValidArgsFunction: cf.CompleteTopic,
		RunE: cf.RunE(func(s *command.Session, args []string) error {
			topic := args[0]
			flags := s.Cmd.Flags()
			if maxMsg > pf.BatchMaxBytes && !flags.Changed("batch-max-bytes") {
				// Room for one record of the largest size and its framing.
				pf.BatchMaxBytes = min(maxMsg+4096, 100<<20)
			}
			opts, err := pf.Opts(s.Timeout())
			if err != nil {
				return err
			}
			partSet := flags.Changed("partition")
			if partSet && !flags.Changed("partitioner") {
				partitioner = "manual"
			}
			switch {
			case partitioner == "manual" && (!partSet || partition < 0):
				return command.UsageErrorf("--partitioner manual needs --partition N")
			case partitioner != "manual" && partSet:
				return command.UsageErrorf("--partition needs --partitioner manual")
			}
			p, err := parsePartitioner(partitioner)
			if err != nil {
				return err
			}
			if maxMsg < 1 || maxMsg > 1<<30 {
				return command.UsageErrorf("--max-message-bytes %d: want 1 to %d", maxMsg, 1<<30)
			}
			if txnID != "" {
				if pf.Acks != "all" && pf.Acks != "-1" {
					return command.UsageErrorf("--transactional-id needs --acks all")
				}
				if flags.Changed("idempotent") && !pf.Idempotent() {
					return command.UsageErrorf("--transactional-id needs idempotent writes")
				}
				if txnTimeout < time.Second || txnTimeout > 15*time.Minute {
					return command.UsageErrorf("--transaction-timeout %v: want 1s to 15m", txnTimeout)
				}
				opts = append(opts, kgo.TransactionalID(txnID), kgo.TransactionTimeout(txnTimeout))
			} else if flags.Changed("txn-records") || flags.Changed("transaction-timeout") {
				return command.UsageErrorf("--txn-records and --transaction-timeout need --transactional-id")
			}
			if txnRecords < 0 {
				return command.UsageErrorf("--txn-records %d: want a positive count, or 0 for one transaction", txnRecords)
			}
			var hdrs []kgo.RecordHeader
			for _, h := range headers {
				k, v, err := command.SplitKV("--header", h)
				if err != nil {
					return err
				}
				hdrs = append(hdrs, kgo.RecordHeader{Key: k, Value: []byte(v)})
			}
			in := s.In()
			if file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			cl, err := s.NewClient(append(opts,
				kgo.DefaultProduceTopic(topic),
				kgo.RecordPartitioner(p),
				kgo.AllowAutoTopicCreation(),
			)...)
			if err != nil {
				return err
			}
			pr := &lineProducer{
				s: s, cl: cl, topic: topic, in: in, keySep: keySep, headers: hdrs,
				partition: int32(partition), manual: partSet, maxMsg: maxMsg,
				verbose: verbose, noOffsets: pf.Acks == "0",
				txn: txnID != "", txnEvery: txnRecords,
			}
			return pr.run()
		}),
	}
	pf.Register(c.Flags())
	cf.AddTo(c.Flags())
	c.Flags().StringVarP(&file, "file", "f", "-", "read lines from `F` instead of stdin (\"-\" is stdin)")
	c.Flags().StringVarP(&keySep, "key-separator", "k", "", "split each line at the first `S` into key and value; a line without S becomes a record without a key")
	c.Flags().StringArrayVarP(&headers, "header", "H", nil, "add the header `k=v` to every record (repeatable)")
	c.Flags().IntVarP(&partition, "partition", "p", -1, "produce every record to partition `P` (implies --partitioner manual)")
	c.Flags().StringVar(&partitioner, "partitioner", "hash", "how records are spread over partitions: `P` is hash, round-robin, sticky, random or manual")
	c.Flags().IntVar(&maxMsg, "max-message-bytes", command.DefaultBatchMaxBytes, "longest line accepted, in `bytes`; a longer line stops the producer with an error")
	c.Flags().BoolVarP(&verbose, "verbose", "v", false, "print partition@offset of each record to stdout (offset -1 with --acks 0)")
	c.Flags().StringVar(&txnID, "transactional-id", "", "produce in transactions of transactional id `ID`, committed at the end of the input (see --txn-records)")
	c.Flags().Int64Var(&txnRecords, "txn-records", 0, "with --transactional-id, commit a transaction every `N` records (0: one for the whole input)")
	c.Flags().DurationVar(&txnTimeout, "transaction-timeout", time.Minute, "with --transactional-id, how long a transaction may stay open before the coordinator aborts it (transaction.timeout.ms; the broker caps it at transaction.max.timeout.ms)")
	return c
}
